import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../src/config.js';

const tenant = {
  id: 'st-marys',
  issuer: 'https://ehr.st-marys.example',
  audience: 'carethread',
  jwksUrl: 'https://ehr.st-marys.example/jwks.json',
  allowedOrigins: ['https://portal.st-marys.example'],
};

describe('configuration', () => {
  it('starts with zero configuration on the development tenant and the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 8080, dataDir: './data', devTenant: true, tenants: [] });
  });

  it('takes tenants from CARETHREAD_TENANTS and then leaves the development tenant off', () => {
    const config = loadConfig({ CARETHREAD_TENANTS: JSON.stringify([tenant]), PORT: '9000' });
    expect(config.port).toBe(9000);
    expect(config.devTenant).toBe(false);
    expect(config.tenants[0]).toMatchObject({ id: 'st-marys', algorithms: ['ES256'] });
  });

  it('names every bad field', () => {
    const bad = [{ ...tenant, id: 'St Marys', algorithms: ['HS256'], allowedOrigins: ['*'] }];
    let message = '';
    try {
      loadConfig({ CARETHREAD_TENANTS: JSON.stringify(bad), PORT: 'eighty' });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    for (const field of [
      'port',
      'tenants.0.id',
      'tenants.0.algorithms.0',
      'tenants.0.allowedOrigins.0',
    ]) {
      expect(message).toContain(`- ${field}:`);
    }
  });

  it('ends idle sessions after 30 minutes unless a tenant says otherwise (0: never)', () => {
    const quiet = {
      ...tenant,
      id: 'quiet',
      issuer: 'https://quiet.example',
      idleTimeoutSeconds: 0,
    };
    const config = loadConfig({ CARETHREAD_TENANTS: JSON.stringify([tenant, quiet]) });
    expect(config.tenants.map((t) => t.idleTimeoutSeconds)).toEqual([1800, 0]);
    expect(config.devTenantIdleTimeoutSeconds).toBe(1800);
    const bad = [{ ...tenant, idleTimeoutSeconds: -1 }];
    expect(() => loadConfig({ CARETHREAD_TENANTS: JSON.stringify(bad) })).toThrow(
      /- tenants\.0\.idleTimeoutSeconds:/,
    );
  });

  it('refuses a tenant with both or neither of jwksUrl and jwks', () => {
    const { jwksUrl: _url, ...neither } = tenant;
    expect(() => loadConfig({ CARETHREAD_TENANTS: JSON.stringify([neither]) })).toThrow(
      /jwksUrl: give exactly one of jwksUrl or jwks/,
    );
  });

  it('explains unreadable JSON', () => {
    expect(() => loadConfig({ CARETHREAD_TENANTS: '[{' })).toThrow(
      /CARETHREAD_TENANTS must be a JSON array/,
    );
    expect(() => loadConfig({ CARETHREAD_CONFIG: '/nonexistent/relay.json' })).toThrow(
      /Cannot read CARETHREAD_CONFIG file/,
    );
  });

  it('keeps files in the data folder unless an S3 bucket is configured, from the file or the environment', () => {
    expect(loadConfig({}).fileStorage).toEqual({ kind: 'local' });
    expect(
      loadConfig({
        CARETHREAD_S3_BUCKET: 'carethread-files',
        AWS_REGION: 'eu-west-1',
        CARETHREAD_S3_ENDPOINT: 'https://minio.internal:9000',
        CARETHREAD_S3_FORCE_PATH_STYLE: '1',
        CARETHREAD_S3_PREFIX: 'prod',
      }).fileStorage,
    ).toEqual({
      kind: 's3',
      bucket: 'carethread-files',
      region: 'eu-west-1',
      endpoint: 'https://minio.internal:9000',
      forcePathStyle: true,
      prefix: 'prod/',
    });
    // The environment's region wins over AWS_REGION; CARETHREAD_FILE_STORAGE=local turns S3 off.
    expect(
      loadConfig({
        CARETHREAD_S3_BUCKET: 'carethread-files',
        CARETHREAD_S3_REGION: 'us-east-1',
        AWS_REGION: 'eu-west-1',
      }).fileStorage,
    ).toMatchObject({ region: 'us-east-1', prefix: '', forcePathStyle: false });
    expect(
      loadConfig({ CARETHREAD_FILE_STORAGE: 'local', CARETHREAD_S3_BUCKET: 'carethread-files' })
        .fileStorage,
    ).toEqual({ kind: 'local' });
  });

  it('names what a bad file storage lacks, in a sentence', () => {
    expect(() => loadConfig({ CARETHREAD_FILE_STORAGE: 's3' })).toThrow(
      /fileStorage\.bucket: give the bucket \(CARETHREAD_S3_BUCKET\)[\s\S]*fileStorage\.region: give the region/,
    );
    expect(() => loadConfig({ CARETHREAD_S3_REGION: 'eu-west-1' })).toThrow(
      /fileStorage\.bucket: give the bucket/,
    );
    expect(() => loadConfig({ CARETHREAD_FILE_STORAGE: 'gcs' })).toThrow(
      /fileStorage\.kind: kind must be "local" or "s3"/,
    );
    const fromFile = {
      kind: 's3',
      bucket: 'Files_2026',
      region: 'eu-west-1',
      endpoint: 'ftp://minio',
      accessKeyId: 'AKIA…',
    };
    expect(() => parseConfig({ fileStorage: fromFile })).toThrow(ConfigError);
    let message = '';
    try {
      parseConfig({ fileStorage: fromFile });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/fileStorage\.bucket: must be a bucket name/);
    expect(message).toMatch(/fileStorage\.endpoint: must be an http\(s\) URL/);
    expect(message).toMatch(/fileStorage\.accessKeyId: give both accessKeyId and secretAccessKey/);
  });
});
