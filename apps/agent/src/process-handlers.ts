import type { LinkLogger } from './link/link-logger.ts';

/**
 * A promise rejected with nobody listening is a bug, but one that must not take the site agent
 * down with it (Node exits on one by default): it is logged, and the service keeps running.
 */
export function logUnhandledRejections(
  target: { on(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown },
  logger: Pick<LinkLogger, 'error'>,
): void {
  target.on('unhandledRejection', (reason) => {
    const error =
      reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason).slice(0, 500);
    logger.error('unhandled rejection (a bug; the agent keeps running)', { error });
  });
}
