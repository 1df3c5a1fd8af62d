// The host API's file route: a file shared in a conversation, for the record.
import { FilePath } from '@carethread/shared';
import { fileHeaders } from '../services/files.js';
import type { HostApiDeps } from './host-api-deps.js';
import { route, type RouteSpec } from './route.js';

export function fileRoutes({ files }: Pick<HostApiDeps, 'files'>): RouteSpec[] {
  return [
    route({
      method: 'GET',
      path: '/api/v1/files/{fileId}',
      operationId: 'downloadFile',
      summary:
        'Download a file shared in a conversation (for the record; the FHIR export links it)',
      tag: 'Files',
      params: FilePath,
      success: {
        status: 200,
        description: 'The file as stored (image metadata removed), with its sniffed type.',
        contentType: 'application/octet-stream',
      },
      errors: ['NOT_FOUND', 'UNAVAILABLE'],
      handler: async ({ identity, params }) => {
        const { file, body } = await files.openForHost(identity, params.fileId);
        return { raw: body, contentType: file.contentType, headers: fileHeaders(file) };
      },
    }),
  ];
}
