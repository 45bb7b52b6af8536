// The publish and file-server commands of the one IPC client, typed as the stores take them.
import { api } from '$lib/ipc/client';
import type { ServersApi } from '../remotes/types';
import type { PublishApi } from './types';

export const publishApi: PublishApi = api;
export const serversApi: ServersApi = api;
