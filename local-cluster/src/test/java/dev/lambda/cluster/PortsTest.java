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
import java.util.List;
import java.util.PrimitiveIterator;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class PortsTest {

    @Test
    void freePortsAreDistinctBindableAndOutsideTheOutgoingConnectionRange() throws IOException {
        Path range = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
        int outgoingFrom = 0;
        if (Files.isReadable(range)) {
            try (InputStream in = Files.newInputStream(range)) {
                String[] bounds = new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim().split("\\s+");
                assertEquals(2, bounds.length, "the range file holds its first and last port: " + String.join(" ", bounds));
                outgoingFrom = Integer.parseInt(bounds[0]);
            }
        }
        Set<Integer> ports = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            int port = Ports.free();
            ports.add(port);
            if (outgoingFrom > 11_024) {
                assertTrue(port < outgoingFrom && port >= outgoingFrom - 10_000,
                        port + " is not among the 10,000 ports below the range outgoing connections take ports from");
            }
            try (ServerSocket server = new ServerSocket()) {
                server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            }
        }
        assertEquals(50, ports.size(), "a port handed out twice: " + ports);
    }

    /** CI's sandbox left no room below its range, and the system's port 0 came back twice within 50. */
    @Test
    void withNoRoomBelowTheOutgoingConnectionRangeAPortTheSystemGivesAgainIsNotHandedOutAgain() {
        PrimitiveIterator.OfInt system = IntStream.of(64_990, 64_990, 64_991, 64_990, 64_991, 64_992).iterator();
        List<Integer> ports = List.of(Ports.free(1024, system::nextInt), Ports.free(1024, system::nextInt), Ports.free(1024, system::nextInt));
        assertEquals(List.of(64_990, 64_991, 64_992), ports);
    }

    @Test
    void aRequestedPortIsNotHandedOutAsAFreeOne() throws IOException {
        int port;
        try (ServerSocket any = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            port = any.getLocalPort(); // one free here, whatever else this machine runs
        }
        assertEquals(port, Ports.resolve(port, "test"));
        PrimitiveIterator.OfInt system = IntStream.of(port, 64_981).iterator();
        assertEquals(64_981, Ports.free(1024, system::nextInt), "the system's offer of the requested port is passed over");
    }
}
