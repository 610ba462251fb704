import type { Located } from '../camera-access.ts';
import type { JobContext } from '../job-context.ts';

/**
 * The command's camera, confirmed by serial before anything is sent with credentials: at the
 * command's URL, else where the directory last saw it.
 */
export function locateCamera(context: JobContext): Promise<Located> {
  return context.cameras.locate([context.url, context.directory.urlOf(context.serial)]);
}
