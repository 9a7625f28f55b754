/**
 * Writes to the customers' forum (Discourse), as the domain asks for them. Nothing here talks to the forum: a
 * capability hands these to its store in the same transaction as its own change, and the outbox worker
 * (bot/integrations/discourse/outbox.ts) delivers them in order, once. Incidents and support tickets share them.
 */

/**
 * A topic the domain refers to: by the `external_id` Cockpit created it with (an incident's status topic, whose
 * number is not known until the forum answers), or by its number (a customer's support topic).
 */
export type ForumTopicRef = { externalId: string } | { topicId: number };

export type ForumWrite =
  /** A new topic whose first post is `raw`; `externalId` finds it again after a crash. */
  | { kind: 'topic.create'; externalId: string; title: string; raw: string; categoryId: number }
  /** A reply; the outbox adds a hidden marker so a retry can tell whether it already landed. */
  | { kind: 'post.reply'; topic: ForumTopicRef; raw: string }
  /** Removes any of `remove` from the topic's tags and adds `add`, leaving tags others set alone. */
  | { kind: 'topic.tags'; topic: ForumTopicRef; add: string[]; remove: string[] }
  /** Closes or reopens a topic (customers can no longer reply to a closed one). */
  | { kind: 'topic.closed'; topic: ForumTopicRef; closed: boolean }
  /** Assigns the topic to a forum user (the discourse-assign plugin). */
  | { kind: 'topic.assign'; topic: ForumTopicRef; username: string };

export type ForumWriteKind = ForumWrite['kind'];

/** Writes that belong together in one ordered stream (one topic's story): delivered in the order given. */
export interface ForumWrites {
  /** The ordering key, e.g. `incident:12` or `topic:345`: writes of one stream go one after the other. */
  stream: string;
  writes: ForumWrite[];
}

/** How far the forum has caught up with a stream, for the people who wait on it. */
export interface ForumBacklog {
  /** Writes not delivered yet. */
  pending: number;
  /** When the oldest of them was written. */
  oldestAt?: Date;
  /** Why the last attempt failed, when it did; never a secret. */
  lastError?: string;
  /** When the next attempt is due. */
  nextAttemptAt?: Date;
}
