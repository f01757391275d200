package dev.lambda.cluster;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.channels.FileChannel;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalClusterLockTest {

    @Test
    void aDataDirectoryInUseIsRefusedByNameUntilItsClusterCloses(@TempDir Path dir) {
        Path data = dir.resolve("servers");
        FileChannel held = LocalCluster.lock(data);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> LocalCluster.lock(data));
        assertTrue(e.getMessage().contains(data.toString()) && e.getMessage().contains("--data"), e.getMessage());

        assertTrue(held.isOpen(), "a refusal leaves the lock held");
        LocalCluster.unlock(data, held);
        LocalCluster.unlock(data, LocalCluster.lock(data));
    }
}
