import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { agentsRouter } from './routers/agents.ts';
import { camerasRouter } from './routers/cameras.ts';
import { fleetRouter } from './routers/fleet.ts';
import { grantsRouter } from './routers/grants.ts';
import { meRouter } from './routers/me.ts';
import { organisationsRouter } from './routers/organisations.ts';
import { sitesRouter } from './routers/sites.ts';
import { createCallerFactory, router } from './trpc.ts';

export const appRouter = router({
  me: meRouter,
  organisations: organisationsRouter,
  sites: sitesRouter,
  grants: grantsRouter,
  agents: agentsRouter,
  fleet: fleetRouter,
  cameras: camerasRouter,
});

export type AppRouter = typeof appRouter;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;

export const createCaller = createCallerFactory(appRouter);
