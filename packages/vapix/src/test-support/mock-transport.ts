import { MockAgent } from 'undici';

import { createAttemptBudget } from '../attempt-budget.ts';
import { createRequestLimiter } from '../request-limiter.ts';
import { createVapixClient, type VapixClient } from '../vapix-client.ts';

/** A request the mock answered, as the client sent it. */
export interface SentRequest {
  method: string;
  /** The request-target, query included. */
  path: string;
  body: string;
}

export interface MockReply {
  /** Matched without the query string. */
  path: string;
  /** Any method when omitted. */
  method?: string;
  status: number;
  body: string | Buffer;
  headers?: Record<string, string>;
}

export interface MockTransport {
  /** A client of `ORIGIN` on the mock, with a budget and limiter of its own. */
  readonly vapix: VapixClient;
  readonly agent: MockAgent;
  /** Requests answered so far, in order. */
  readonly sent: SentRequest[];
  /** Answers the next matching request once and records it in `sent`. */
  reply(reply: MockReply): void;
  /** Fails the next matching request with `error`, as a refused connection would. */
  replyWithError(path: string, method: string, error: Error): void;
  close(): Promise<void>;
}

export const ORIGIN = 'http://camera.test';

/**
 * The VAPIX client over undici's MockAgent (STYLE: tests inject the transport): nothing
 * reaches the network, and unmatched requests fail.
 */
export function createMockTransport(): MockTransport {
  const agent = new MockAgent();
  agent.disableNetConnect();
  const sent: SentRequest[] = [];
  const vapix = createVapixClient({
    url: ORIGIN,
    dispatcher: agent,
    budget: createAttemptBudget(),
    limiter: createRequestLimiter(),
  });
  return {
    vapix,
    agent,
    sent,
    reply({ path, method, status, body, headers = { 'content-type': 'application/json' } }) {
      agent
        .get(ORIGIN)
        .intercept({
          path: (candidate) => candidate.split('?')[0] === path,
          method: method ?? (() => true),
        })
        .reply((options) => {
          sent.push({
            method: options.method,
            path: options.path,
            body: typeof options.body === 'string' ? options.body : '',
          });
          return { statusCode: status, data: body, responseOptions: { headers } };
        });
    },
    replyWithError(path, method, error) {
      agent.get(ORIGIN).intercept({ path, method }).replyWithError(error);
    },
    close: () => agent.close(),
  };
}
