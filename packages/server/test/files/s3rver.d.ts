// The part of s3rver (an S3-compatible server written in Node, a test dependency) the tests use.
declare module 's3rver' {
  import type { AddressInfo } from 'node:net';

  export interface S3rverContext {
    method: string;
    path: string;
    query: Record<string, string | string[] | undefined>;
    status: number;
    body: unknown;
    type: string;
  }
  export type S3rverMiddleware = (context: S3rverContext, next: () => Promise<void>) => unknown;

  export default class S3rver {
    constructor(options: {
      address?: string;
      port?: number;
      silent?: boolean;
      directory?: string;
      configureBuckets?: { name: string }[];
    });
    /** Koa's middleware list: what `run()` composes. */
    middleware: S3rverMiddleware[];
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
  }
}
