// The shapes the file modules share.
import type { FILE_TYPES } from '../core/settings.js';

/** A type the relay recognises from content. */
export type FileType = (typeof FILE_TYPES)[number];
