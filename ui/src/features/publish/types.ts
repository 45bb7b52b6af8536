// The shapes of targets, the publish request, its dry run and publications as the wizard uses them.
// PROVISIONAL: copied from the engine's publish module (crates/engine/src/publish/mod.rs on the
// `publish` branch) before it is on main; replaced by re-exports from the generated bindings
// (ui/src/lib/ipc/bindings.ts) as soon as it lands.
import type { ArtifactRef, IpcError, JobProgress, JobSummary } from '$lib/ipc/client';

export type AuthMethod = 'password' | 'application_credential' | 'none';
export type Interface = 'public' | 'internal' | 'admin';
export type Visibility = 'private' | 'shared' | 'community' | 'public';

export type Target = {
  id: number; name: string; auth: AuthMethod; auth_url: string | null; image_url: string | null; region: string | null;
  interface: Interface; username: string | null; user_domain: string | null; project: string | null; project_domain: string | null;
  application_credential_id: string | null; created_at: string; updated_at: string;
};

export type NewTarget = {
  name: string; auth: AuthMethod; auth_url: string | null; image_url: string | null; region: string | null;
  interface: Interface | null; username: string | null; user_domain: string | null; project: string | null;
  project_domain: string | null; application_credential_id: string | null;
};

export type TargetAdded = { target: Target; secret_stored: boolean; secret_error: IpcError | null };

export type TargetCheck = {
  target: string; auth: AuthMethod; user: string | null; user_id: string | null; project: string | null; project_id: string | null;
  roles: string[]; image_endpoint: string; glance_version: string | null; token_expires_at: string | null;
};

export type PublishOptions = {
  name: string | null; visibility: Visibility; disk_format: string | null; container_format: string | null;
  min_disk_gb: number | null; min_ram_mb: number | null; tags: string[]; protected: boolean;
  properties: Partial<{ [key in string]: string }>;
};

export type PublishRequest = { artifacts: string[]; target: string; options: PublishOptions };

export type PlanItem = {
  artifact: ArtifactRef; name: string; source_format: string; disk_format: string; container_format: string;
  convert: boolean; size: number; properties: Partial<{ [key in string]: string }>; problems: IpcError[]; warnings: IpcError[];
};

export type PublishPlan = {
  target: TargetCheck; disk_formats: string[]; container_formats: string[]; storage_left: number | null; items: PlanItem[]; ready: boolean;
};

export type PublicationStatus = 'uploading' | 'active' | 'failed' | 'cancelled' | 'deleted' | 'interrupted';

export type Publication = {
  id: number; artifact: ArtifactRef; target: string; job_id: number | null; image_url: string; remote_id: string | null;
  name: string; disk_format: string; container_format: string; visibility: Visibility; size: number | null;
  md5: string | null; sha512: string | null; status: PublicationStatus; remote_status: string | null; verified: boolean;
  error: IpcError | null; created_at: string; updated_at: string;
};

export type PublishReport = { job: JobSummary; publications: Publication[] };

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
  rememberSecret: (owner: SecretOwnerWord, name: string, secret: string) => Promise<void>;
};
