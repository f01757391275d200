package dev.lambda.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PortsTest {

    @Test
    void freePortsAreDistinctBindableAndOutsideTheOutgoingConnectionRange() throws IOException {
        Path range = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
        int outgoingFrom = 0;
        if (Files.isReadable(range)) {
            try (InputStream in = Files.newInputStream(range)) {
                outgoingFrom = Integer.parseInt(new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim().split("\\s+")[0]);
            }
        }
        Set<Integer> ports = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            int port = Ports.free();
            ports.add(port);
            if (outgoingFrom > 11_024) {
                assertTrue(port < outgoingFrom, port + " is in the range outgoing connections take ports from");
            }
            try (ServerSocket server = new ServerSocket()) {
                server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            }
        }
        assertEquals(50, ports.size(), "a port handed out twice: " + ports);
    }

    /** CI's sandbox left no room below its range: the system's port 0 came back twice within 50. */
    @Test
    void withNoRoomBelowTheOutgoingConnectionRangeFreePortsAreStillDistinctAndBindable() throws IOException {
        Set<Integer> ports = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            int port = Ports.free(1024);
            ports.add(port);
            try (ServerSocket server = new ServerSocket()) {
                server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            }
        }
        assertEquals(200, ports.size(), "a port handed out twice: " + ports);
    }
}
