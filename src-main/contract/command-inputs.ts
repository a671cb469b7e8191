/** Inputs shared by the commands: what a host, a name or an id may look like. */
import { z } from 'zod';

export const SafeName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'use 1–63 letters, digits, dot, dash or underscore, starting with a letter or digit');

/** An IPv4 address or a DNS name; never anything a shell could read as syntax. */
export const HostAddress = z
  .string()
  .regex(/^(\d{1,3}(\.\d{1,3}){3}|[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*)$/, 'an IPv4 address or a host name');

/** A host as the user names it: address[:port] or its name. */
export const HostRef = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,253}(:\d{1,5})?$/, 'a host as address[:port] or its name');

export const StreamId = z.string().regex(/^[0-9a-f-]{36}$/, 'a console stream id');

export const PlanId = z.string().regex(/^[a-z0-9-]{8,64}$/, 'not a plan id (see `lockstep tasks list`)');
