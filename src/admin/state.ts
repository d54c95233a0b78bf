/**
 * What the administrator's pages share (not public API).
 *
 * @module admin/state
 */
import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import type { PortProbe, StagedUpload } from './inspect.js';
import type { AdminHandlerOptions } from './options.js';
import type { AdminSession, SessionStore } from './security.js';

/** Per-request values the pages read. */
export interface AdminVariables {
  user: string;
  csrf: string;
  session: AdminSession | undefined;
}

/** The environment of the Hono application. */
export type AdminEnv = { Bindings: HttpBindings; Variables: AdminVariables };

/** What the pages share. */
export interface AdminState {
  readonly options: AdminHandlerOptions;
  readonly base: string;
  readonly now: () => Date;
  readonly sessions: SessionStore;
  readonly uploads: Map<string, StagedUpload>;
  /** The last "test now" of a domain (kept in the store, so it outlives a restart). */
  lastProbe(domain: string): Promise<{ at: Date; results: readonly PortProbe[] } | undefined>;
  /** Records a domain's "test now". */
  saveProbe(domain: string, at: Date, results: readonly PortProbe[]): Promise<void>;
  audit(c: Context<AdminEnv>, action: string, domain?: string, detail?: string): Promise<void>;
}
