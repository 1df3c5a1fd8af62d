// The lifecycle part of the Store contract: what is left beside the domains (migrating, the
// readiness ping, closing, and the tenants' data keys). Its SQL: sql/lifecycle.ts.
import type { DataKeyInfo } from './keyring.js';

export interface LifecycleStore {
  /** Brings the schema up to date by running every numbered migration not yet applied. */
  migrate(): Promise<void>;
  /** Cheap round trip used by /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;

  /** Which master key wraps each tenant's data keys (ADR 14): what `carethread keys status` shows. */
  dataKeys(): Promise<DataKeyInfo[]>;
  /**
   * Re-wraps every data key under the current master key, online (the data keys themselves do
   * not change); how many it re-wrapped.
   */
  rewrapDataKeys(): Promise<number>;
}
