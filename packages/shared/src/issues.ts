// Turns zod validation issues into one short sentence that names the offending fields.
import type { z } from 'zod/mini';

type Issue = z.core.$ZodIssue;

function describeOne(issue: Issue): string {
  const where = issue.path.length > 0 ? issue.path.map(String).join('.') : 'payload';
  switch (issue.code) {
    case 'invalid_type':
      return `${where} must be ${issue.expected}`;
    case 'too_big':
      return `${where} is too ${issue.origin === 'string' || issue.origin === 'array' ? 'long' : 'large'} (at most ${String(issue.maximum)})`;
    case 'too_small':
      return `${where} is too ${issue.origin === 'string' || issue.origin === 'array' ? 'short' : 'small'} (at least ${String(issue.minimum)})`;
    case 'invalid_format':
      return `${where} has the wrong format`;
    case 'unrecognized_keys':
      return `${where} has unknown fields: ${issue.keys.join(', ')}`;
    case 'invalid_value':
      return `${where} must be one of: ${issue.values.map(String).join(', ')}`;
    case 'custom':
      // Our own refinements say what is wrong ("must have a visible character").
      return `${where}: ${issue.message}`;
    default:
      return `${where} is invalid`;
  }
}

/** "text is too long (at most 4000); conversationId must be string" */
export function describeIssues(issues: readonly Issue[]): string {
  return issues.slice(0, 5).map(describeOne).join('; ');
}

/** True when the only problem is that a string or list was longer than allowed. */
export function isOnlyTooBig(issues: readonly Issue[]): boolean {
  return issues.length > 0 && issues.every((issue) => issue.code === 'too_big');
}
