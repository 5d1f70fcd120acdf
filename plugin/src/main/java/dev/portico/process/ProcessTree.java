package dev.portico.process;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A process and its descendants, remembered at the moment of the snapshot: a grandchild that
 * has been re-parented to init after its parent exited is still found and ended.
 */
final class ProcessTree {

    private final ProcessHandle root;
    private final Set<ProcessHandle> members = new LinkedHashSet<>();

    private ProcessTree(ProcessHandle root) {
        this.root = root;
        refresh();
    }

    static ProcessTree of(ProcessHandle root) {
        return new ProcessTree(root);
    }

    /** Adds the descendants that exist now; members seen earlier are kept. */
    void refresh() {
        if (root.isAlive()) {
            root.descendants().forEach(members::add);
        }
    }

    boolean anyAlive() {
        return root.isAlive() || members.stream().anyMatch(ProcessHandle::isAlive);
    }

    /** SIGKILL to the root and to every descendant ever seen, and a short wait for them to go. */
    void killNow() {
        refresh();
        List<ProcessHandle> all = new ArrayList<>(members);
        all.add(0, root);
        for (ProcessHandle handle : all) {
            handle.destroyForcibly();
        }
        for (ProcessHandle handle : all) {
            try {
                handle.onExit().get(2, TimeUnit.SECONDS);
            } catch (Exception e) {
                // a zombie or a process we may not signal: nothing more we can do from Java
            }
        }
    }
}
