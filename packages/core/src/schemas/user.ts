import { z } from 'zod';
import { IdSchema, TextSchema } from './common.ts';

export const UserSchema = z.object({
  id: IdSchema,
  email: z.email().transform((email) => email.toLowerCase()),
  name: TextSchema,
});
export type User = z.infer<typeof UserSchema>;
