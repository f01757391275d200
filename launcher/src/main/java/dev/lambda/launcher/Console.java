package dev.lambda.launcher;

import java.time.LocalTime;
import java.time.format.DateTimeFormatter;

/** The launcher's own lines on standard output, time-stamped; the parts' logs go to files. */
final class Console {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss");

    private Console() {
    }

    static synchronized void say(String line) {
        System.out.println(LocalTime.now().format(TIME) + "  " + line);
    }
}
