package dev.portico.outofprocess.process;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A process and its descendants, remembered at the moment of the snapshot: a grandchild that
 * has been re-parented to init after its parent exited is still found and ended.
 */
public final class ProcessTree {

    /** How long a SIGKILLed tree is given to disappear: a zombie or a process we may not signal never does. */
    private static final Duration KILL_WAIT = Duration.ofSeconds(2);

    private final ProcessHandle root;
    private final Set<ProcessHandle> members = new LinkedHashSet<>();

    private ProcessTree(ProcessHandle root) {
        this.root = root;
        refresh();
    }

    public static ProcessTree of(ProcessHandle root) {
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

    /** SIGTERM to the root and to every descendant seen so far; does not wait. */
    void terminate() {
        everyMember().forEach(ProcessHandle::destroy);
    }

    /** SIGKILL to the root and to every descendant ever seen; does not wait. */
    void kill() {
        everyMember().forEach(ProcessHandle::destroyForcibly);
    }

    /** SIGKILL to the whole tree, and a short wait for it to go. */
    public void killNow() {
        kill();
        awaitAll(List.of(this), System.nanoTime() + KILL_WAIT.toNanos());
    }

    /** SIGKILL to every tree at once, then one short wait for all of them. */
    static void killAll(Collection<ProcessTree> trees) {
        trees.forEach(ProcessTree::kill);
        awaitAll(trees, System.nanoTime() + KILL_WAIT.toNanos());
    }

    /**
     * Waits, with one deadline for all, until no process of any tree is alive. Descendants that
     * appear meanwhile are added, so a child forked during the wait is not missed.
     *
     * @return true when every tree is gone, false at the deadline
     */
    static boolean awaitAll(Collection<ProcessTree> trees, long deadlineNanos) {
        while (true) {
            trees.forEach(ProcessTree::refresh);
            if (trees.stream().noneMatch(ProcessTree::anyAlive)) {
                return true;
            }
            if (System.nanoTime() - deadlineNanos >= 0) {
                return false;
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    /** The root and the descendants seen so far, alive or not. */
    List<ProcessHandle> members() {
        return everyMember();
    }

    private List<ProcessHandle> everyMember() {
        refresh();
        List<ProcessHandle> all = new ArrayList<>(members.size() + 1);
        all.add(root);
        all.addAll(members);
        return all;
    }
}
