import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { agentsRouter } from './routers/agents.ts';
import { approvalsRouter } from './routers/approvals.ts';
import { auditRouter } from './routers/audit.ts';
import { camerasRouter } from './routers/cameras.ts';
import { casesRouter } from './routers/cases.ts';
import { fleetAuditRouter } from './routers/fleet-audit.ts';
import { fleetRouter } from './routers/fleet.ts';
import { grantsRouter } from './routers/grants.ts';
import { handoverRouter } from './routers/handover.ts';
import { meRouter } from './routers/me.ts';
import { organisationsRouter } from './routers/organisations.ts';
import { ownershipRouter } from './routers/ownership.ts';
import { rotationRouter } from './routers/rotation.ts';
import { sitesRouter } from './routers/sites.ts';
import { vaultRouter } from './routers/vault.ts';
import { createCallerFactory, router } from './trpc.ts';

export const appRouter = router({
  me: meRouter,
  organisations: organisationsRouter,
  sites: sitesRouter,
  grants: grantsRouter,
  agents: agentsRouter,
  fleet: fleetRouter,
  cameras: camerasRouter,
  cases: casesRouter,
  ownership: ownershipRouter,
  approvals: approvalsRouter,
  handover: handoverRouter,
  vault: vaultRouter,
  audit: auditRouter,
  fleetAudit: fleetAuditRouter,
  rotation: rotationRouter,
});

export type AppRouter = typeof appRouter;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;

export const createCaller = createCallerFactory(appRouter);
