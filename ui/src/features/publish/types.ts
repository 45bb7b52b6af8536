// The publish feature's view of Rust: the generated types (targets, the request, its dry run,
// publications), and the part of the one IPC client the stores take (a test double in vitest).
import type { JobProgress, NewTarget, Publication, PublishPlan, PublishReport, PublishRequest, Target, TargetAdded, TargetCheck } from '$lib/ipc/client';

export type {
  AuthMethod, Interface, NewTarget, Publication, PublicationStatus, PublishOptions, PublishPlan, PublishPlanItem as PlanItem,
  PublishReport, PublishRequest, Target, TargetAdded, TargetCheck, Visibility,
} from '$lib/ipc/client';

export type SecretOwnerWord = 'target' | 'server';

/** What the wizard, the publications section and the targets screen need from Rust. */
export type PublishApi = {
  listTargets: () => Promise<Target[]>;
  addTarget: (spec: NewTarget, secret: string | null) => Promise<TargetAdded>;
  testTarget: (name: string, secret: string | null) => Promise<TargetCheck>;
  removeTarget: (name: string) => Promise<Target>;
  planPublish: (request: PublishRequest, secret: string | null) => Promise<PublishPlan>;
  publish: (request: PublishRequest, secret: string | null, onProgress: (p: JobProgress) => void, onReport: (r: PublishReport) => void) => Promise<number>;
  listPublications: (artifact: string | null) => Promise<Publication[]>;
  refreshPublication: (id: number, secret: string | null) => Promise<Publication>;
  unpublish: (id: number, secret: string | null) => Promise<Publication>;
  rememberSecret: (owner: SecretOwnerWord, name: string, secret: string) => Promise<null>;
};
