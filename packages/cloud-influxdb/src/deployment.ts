import { z } from 'zod';

// A deployment is the set of hubs that share one lease storage. Every token a hub
// creates carries its deployment's name, and a hub sweeps only its own deployment's
// tokens for orphans: hubs of other deployments on the same InfluxDB (each with its
// own storage) would otherwise take each other's live tokens for orphans.

/** A deployment name: no `_` (v1 user names use it as separator), no spaces (v2 descriptions split on them). */
export const DEPLOYMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9.-]{0,39}$/;

export const DeploymentSchema = z.string().regex(DEPLOYMENT_NAME, 'letters, digits, "." and "-", starting with a letter or digit, at most 40');

/** The deployment of a service whose options name none. */
export const DEFAULT_DEPLOYMENT = 'default';

/** Whose tokens a service takes for its own in getAll/get (and so may sweep as orphans). */
export interface Ownership {
  marker: string;
  deployment: string;
  /** Tokens of the format without a deployment (before it existed) count as ours too. */
  adoptLegacy: boolean;
}
