/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The CareThread relay's address (default http://localhost:8080). */
  readonly VITE_CARETHREAD_RELAY?: string;
}
