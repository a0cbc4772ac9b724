package io.celeriac.manager;

import java.nio.file.Path;

/** A process that holds the manager lock on {@code args[0]} (taking it again if its file is deleted) until it is killed. */
public final class LockHolderMain {
    private LockHolderMain() {
    }

    public static void main(String[] args) throws Exception {
        ManagerLock lock = ManagerLock.acquire(Path.of(args[0])).orElseThrow();
        System.out.println("locked");
        System.out.flush();
        while (true) {
            Thread.sleep(100);
            lock.ensureHeld();
        }
    }
}
