import type { EventAction } from './config.ts';

/** What the event is about, as Distribution's `target` names it. */
export interface EventTarget {
  mediaType?: string;
  /** Bytes of the blob or manifest, where the request showed them. */
  size?: number;
  digest?: string;
  length?: number;
  repository: string;
  /** The mount's source repository. */
  fromRepository?: string;
  url?: string;
  tag?: string;
}

/** One registry event, in Distribution's shape; the CloudEvents encoding is made from it. */
export interface RegistryEvent {
  id: string;
  timestamp: string;
  action: EventAction;
  target: EventTarget;
  request: { id: string; addr?: string; host?: string; method: string; useragent?: string };
  actor: { name?: string };
  source: { addr: string; instanceID: string };
}
