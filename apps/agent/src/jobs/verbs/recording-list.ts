import { VapixMalformedResponseError, type VapixRequest } from '@custody/vapix';

/*
 * The edge-storage recording list (record/list.cgi, reference §6.3). It belongs in
 * @custody/vapix with the other request builders; it lives here only until vapix offers one.
 */

export const RECORDING_LIST_PATH = '/axis-cgi/record/list.cgi';

export interface RecordingCount {
  total: number;
}

const TOTAL = /<recordings\b[^>]*\btotalnumberofrecordings="(\d+)"/;
const LISTED = /<recordings\b/;

/** How many recordings the device holds; one is listed, which is enough to prove the count. */
export function countRecordings(): VapixRequest<RecordingCount> {
  return {
    method: 'GET',
    path: RECORDING_LIST_PATH,
    query: { recordingid: 'all', maxnumberofresults: 1 },
    callClass: 'normal',
    parse: (response, context) => {
      const text = response.body.toString('latin1');
      const total = TOTAL.exec(text)?.[1];
      if (total === undefined) {
        throw new VapixMalformedResponseError(
          LISTED.test(text)
            ? 'the recording list has no total count'
            : 'the answer is not a recording list',
          context,
        );
      }
      return { total: Number(total) };
    },
  };
}
