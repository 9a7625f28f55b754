import { DiscourseError, type CreatedPost, type DiscourseApi, type ListedTopic, type PostRead, type TopicRead, type TopicState } from '../integrations/discourse/client';
import type { SupportReads } from '../integrations/discourse/supportForum';

/**
 * The demo's Discourse, in process: a support category with two customers' topics waiting, and whatever Cockpit
 * writes (status topics of public incidents, replies, tags, closing, assignment) kept and told to the terminal
 * as the forum would show it. Its links point at `forum.invalid`, a name that can never resolve.
 */

export const DEMO_FORUM_URL = 'https://forum.invalid';
const SELF = 'cockpit';

interface DemoPost {
  id: number;
  topicId: number;
  postNumber: number;
  username: string;
  name?: string;
  raw: string;
  createdAt: Date;
}

interface DemoTopic {
  id: number;
  title: string;
  categoryId: number;
  externalId?: string;
  author: { username: string; name?: string };
  createdAt: Date;
  tags: string[];
  closed: boolean;
  assignedTo?: string;
  postIds: number[];
}

export interface DemoForumOptions {
  /** cockpit.yml's `tickets.category`, where the customers' topics wait; none are seeded without it. */
  supportCategory?: number;
  now: () => Date;
  /** Told of every change Cockpit makes, one line each. */
  print(line: string): void;
}

export class DemoForum implements DiscourseApi, SupportReads {
  readonly username = SELF;
  readonly url = DEMO_FORUM_URL;
  private readonly topics = new Map<number, DemoTopic>();
  private readonly posts = new Map<number, DemoPost>();
  private nextTopic = 101;
  private nextPost = 1001;

  constructor(private readonly options: DemoForumOptions) {
    const category = options.supportCategory;
    if (category === undefined) return;
    const minutesAgo = (m: number) => new Date(options.now().getTime() - m * 60_000);
    this.open({ username: 'jane', name: 'Jane Doe' }, category, 'CSV exports of the api time out', 'Since Monday every CSV export of more than 10k rows ends in a 504 after 30 seconds. Smaller ones work.', ['high'], minutesAgo(40));
    this.open({ username: 'omar' }, category, 'Invite emails never arrive', 'I invited three colleagues this morning and none of them got the email, not even in spam.', [], minutesAgo(10));
  }

  async createTopic(topic: { title: string; raw: string; categoryId: number; externalId: string }): Promise<CreatedPost> {
    const created = this.open({ username: SELF }, topic.categoryId, topic.title, topic.raw, [], this.options.now(), topic.externalId);
    this.options.print(`new topic #${created.id} "${created.title}": ${firstLine(topic.raw)}`);
    const postId = created.postIds[0]!;
    return { postId, topicId: created.id, postNumber: 1 };
  }

  async reply(topicId: number, raw: string): Promise<CreatedPost> {
    const post = this.add(this.existing(topicId), { username: SELF }, raw);
    this.options.print(`reply on #${topicId} (Discourse emails it to whoever watches the topic): ${firstLine(raw)}`);
    return { postId: post.id, topicId, postNumber: post.postNumber };
  }

  async topicIdByExternalId(externalId: string): Promise<number | undefined> {
    return [...this.topics.values()].find((t) => t.externalId === externalId)?.id;
  }

  async topic(topicId: number): Promise<TopicState> {
    const t = this.existing(topicId);
    return { id: t.id, tags: [...t.tags], closed: t.closed, postIds: [...t.postIds] };
  }

  async readTopic(topicId: number): Promise<TopicRead> {
    const t = this.existing(topicId);
    return { ...(await this.topic(topicId)), title: t.title, categoryId: t.categoryId, createdAt: t.createdAt, archetype: 'regular', author: { ...t.author } };
  }

  async latestTopics(_slug: string, categoryId: number): Promise<ListedTopic[]> {
    const last = (t: DemoTopic) => this.posts.get(t.postIds.at(-1)!)!.createdAt.getTime();
    return [...this.topics.values()]
      .filter((t) => t.categoryId === categoryId)
      .sort((a, b) => last(b) - last(a))
      .map((t) => ({ id: t.id, createdAt: t.createdAt, highestPostNumber: t.postIds.length, closed: t.closed, pinned: false }));
  }

  async post(postId: number): Promise<PostRead> {
    const p = this.posts.get(postId);
    if (!p) throw new DiscourseError('rejected', `GET /posts/{id}.json: Discourse answered 404`, 404);
    return { id: p.id, topicId: p.topicId, username: p.username, raw: p.raw, createdAt: p.createdAt, postNumber: p.postNumber, postType: 1, ...(p.name ? { name: p.name } : {}) };
  }

  async setTags(topicId: number, tags: string[]): Promise<void> {
    this.existing(topicId).tags = [...new Set(tags)];
    this.options.print(`#${topicId} is tagged ${tags.join(', ') || '(no tags)'}`);
  }

  async setClosed(topicId: number, closed: boolean): Promise<void> {
    this.existing(topicId).closed = closed;
    this.options.print(`#${topicId} is ${closed ? 'closed' : 'open again'}`);
  }

  async assign(topicId: number, username: string): Promise<void> {
    this.existing(topicId).assignedTo = username;
    this.options.print(`#${topicId} is assigned to @${username}`);
  }

  private open(author: DemoTopic['author'], categoryId: number, title: string, raw: string, tags: string[], createdAt: Date, externalId?: string): DemoTopic {
    const topic: DemoTopic = { id: this.nextTopic++, title, categoryId, author, createdAt, tags, closed: false, postIds: [], ...(externalId ? { externalId } : {}) };
    this.topics.set(topic.id, topic);
    this.add(topic, author, raw, createdAt);
    return topic;
  }

  private add(topic: DemoTopic, author: DemoTopic['author'], raw: string, createdAt = this.options.now()): DemoPost {
    const post: DemoPost = { id: this.nextPost++, topicId: topic.id, postNumber: topic.postIds.length + 1, username: author.username, raw, createdAt, ...(author.name ? { name: author.name } : {}) };
    this.posts.set(post.id, post);
    topic.postIds.push(post.id);
    return post;
  }

  private existing(topicId: number): DemoTopic {
    const topic = this.topics.get(topicId);
    if (!topic) throw new DiscourseError('rejected', `the demo forum has no topic ${topicId}: Discourse answered 404`, 404);
    return topic;
  }
}

/** What a reader sees first of a post: its first line that is not a greeting or a hidden comment. */
function firstLine(raw: string): string {
  const line = raw
    .replace(/<!--[\s\S]*?-->/g, '')
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '' && !/^Hello\b/.test(l));
  return line ?? '';
}
