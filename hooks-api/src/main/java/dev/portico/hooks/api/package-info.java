/**
 * The events Portico fires to lifecycle hooks: one type per hosting transition, in both hosting
 * models. A hook is a CDI bean in a jar in the valve's {@code hooksPath} directory; its observer
 * methods receive these events from a Weld SE container that Portico boots over the hook jars:
 *
 * <pre>{@code
 * @ApplicationScoped
 * public class CrashMail {
 *     void crashed(@Observes ProcessExited exit) {            // in event order, within hookTimeLimit
 *         if (exit.crashed()) { ... }
 *     }
 *     void anything(@ObservesAsync HostingEvent event) { ... } // on a pool, no limit: notifications
 *     void secrets(@Observes ProcessStarting start) {
 *         start.environment().put("DB_PASSWORD", vault.read("shop/db"));
 *     }
 * }
 * }</pre>
 *
 * Every event implements {@link dev.portico.hooks.api.HostingEvent}, so one observer of that type
 * sees them all. {@link dev.portico.hooks.api.ProcessStarting} is the one event a hook can answer:
 * it may add arguments and environment variables or veto the start.
 */
package dev.portico.hooks.api;
