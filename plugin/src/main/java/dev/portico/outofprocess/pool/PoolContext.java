package dev.portico.outofprocess.pool;

import dev.portico.config.AppConfig;

/**
 * What the parts of one pool share: whose pool it is, its configuration and the Host's services,
 * and the two bookkeepers every part consults (under the pool's lock).
 */
record PoolContext(String appName, String contextPath, AppConfig config, long generation, PoolServices services,
        StartFailures startFailures, Admission admission) {
}
