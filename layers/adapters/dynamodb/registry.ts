// The Registry port on DynamoDB, using only what both DynamoDB and dynalite support: GetItem, PutItem,
// UpdateItem, Query and condition expressions (no transactions, no PartiQL). docs/registry.md explains
// the item layout and why each multi-step write is safe to crash and redeliver.
import {
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  AliasConflictError,
  ContentionError,
  FactTooLargeError,
  IllegalAliasError,
  IllegalTransitionError,
  ImmutableFactError,
  NotFoundError,
  SelfApprovalError,
} from '#core/registry/errors';
import { factHash, presentFacts, stableId } from '#core/registry/facts';
import { ALIAS_TARGET_STATUSES, allowedNext, canTransition, type Status } from '#core/registry/lifecycle';
import type { Registry } from '#core/registry/registry';
import { GSI1, GSI2, keys, MODELS_PARTITION } from '#core/registry/table';
import type {
  AliasName,
  ApprovalInput,
  ApprovalRecord,
  AuditEvent,
  ChampionSnapshot,
  DriftInput,
  DriftRecord,
  FactName,
  IncidentInput,
  IncidentRecord,
  ListVersionsOptions,
  ModelRecord,
  ProductionSummary,
  RecordFactsResult,
  RegisterUploadInput,
  RegisterUploadResult,
  SetAliasInput,
  SetAliasResult,
  TransitionInput,
  TransitionResult,
  VersionFacts,
  VersionRecord,
} from '#core/registry/types';
import { type Item, itemSize, marshall, marshallItem, unmarshallItem } from './attribute-values';
import { Expression } from './expression';

/** The steps of registerUpload, in order; a hook after each lets tests simulate a crash there. */
export const REGISTER_STEPS = [
  'claimed',
  'reserved',
  'version-created',
  'audited',
  'model-updated',
  'done',
] as const;
export type RegisterStep = (typeof REGISTER_STEPS)[number];

export interface DynamoRegistryOptions {
  client: DynamoDBClient;
  tableName: string;
  /** Query page size (DynamoDB `Limit`); undefined = DynamoDB's 1 MB pages. */
  pageSize?: number;
  /** How many optimistic-concurrency races one call may lose before giving up. */
  maxAttempts?: number;
  /** Refuse fact writes that would grow a version item past this (DynamoDB's hard limit is 400 KB). */
  itemSizeLimit?: number;
  hooks?: {
    afterRegisterStep?(
      step: RegisterStep,
      detail: { model: string; uploadId: string; version?: number },
    ): void | Promise<void>;
  };
}

// Attributes kept on items for the registry's own bookkeeping (never returned to callers).
interface Bookkeeping {
  pk: string;
  sk: string;
  type: string;
  /** Optimistic lock: every status, fact or alias write increments it and requires the value it read. */
  rev: number;
  /** An audit event written together with the change, copied to its EVENT item right after (outbox). */
  pendingAudit?: AuditEvent;
}

interface StoredVersion extends VersionRecord, Bookkeeping {
  factHashes: Partial<Record<FactName, string>>;
  /** `<sourceEventId>><to>` of every transition applied: a redelivered event is recognised here. */
  appliedEvents?: string[];
}

interface StoredModel extends ModelRecord, Bookkeeping {}

interface StoredClaim {
  pk: string;
  sk: string;
  uploadId: string;
  version?: number;
  done?: boolean;
}

const DEFAULT_MAX_ATTEMPTS = 25;
const DEFAULT_ITEM_SIZE_LIMIT = 350_000;

export class DynamoRegistry implements Registry {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  private readonly pageSize: number | undefined;
  private readonly maxAttempts: number;
  private readonly itemSizeLimit: number;
  private readonly hooks: NonNullable<DynamoRegistryOptions['hooks']>;

  constructor(options: DynamoRegistryOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.pageSize = options.pageSize;
    this.maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    this.itemSizeLimit = options.itemSizeLimit ?? DEFAULT_ITEM_SIZE_LIMIT;
    this.hooks = options.hooks ?? {};
  }

  // ---------------------------------------------------------------- registration

  async registerUpload(input: RegisterUploadInput): Promise<RegisterUploadResult> {
    requireText(input.model, 'model');
    requireText(input.uploadId, 'uploadId');
    requireText(input.sourceEventId, 'sourceEventId');
    const pk = keys.model(input.model);
    const claimSk = keys.upload(input.uploadId);
    const facts: VersionFacts = {
      ...input.facts,
      notebook: input.notebook,
      manifestHash: input.manifestHash,
    };
    const step = async (name: RegisterStep, version?: number) =>
      this.hooks.afterRegisterStep?.(name, { model: input.model, uploadId: input.uploadId, version });

    this.assertFits(
      this.newVersionItem(input, 1, facts),
      presentFacts(facts).map(([name]) => name),
    );

    // 1. Claim the upload: the claim is where redeliveries of one upload meet.
    const newClaim: StoredClaim = { pk, sk: claimSk, uploadId: input.uploadId };
    let knownClaim: StoredClaim | undefined;
    if (
      await this.putIfAbsent({ ...newClaim, type: 'UPLOAD', ...pick(input, 'model', 'sourceEventId', 'at') })
    ) {
      knownClaim = newClaim;
      await step('claimed');
    }

    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      // Re-read on every round but the first after creating the claim (then it is known to be fresh).
      const claim = knownClaim ?? ((await this.get(pk, claimSk)) as StoredClaim | undefined);
      knownClaim = undefined;
      if (!claim)
        throw new Error(`upload claim ${claimSk} of ${input.model} vanished; claims are never deleted`);
      if (claim.done && claim.version !== undefined) {
        const done = await this.getStoredVersion(input.model, claim.version);
        if (!done) throw new NotFoundError(input.model, claim.version);
        return { version: claim.version, created: false, status: done.status };
      }

      // 2. Reserve a number on the claim. Only the claim decides which number this upload tries, so
      //    two deliveries of one upload can never create two versions.
      let version = claim.version;
      if (version === undefined) {
        const candidate = (await this.latestVersionNumber(pk)) + 1;
        const e = new Expression();
        const reserved = await this.updateIf(
          pk,
          claimSk,
          e,
          `SET ${e.name('version')} = ${e.value(candidate)}`,
          `attribute_not_exists(${e.name('version')})`,
        );
        if (!reserved) continue;
        await step('reserved', candidate);
        version = candidate;
      }

      // 3. Create the version item (create-only). A different upload may own that number: move the
      //    reservation past the latest version and try again.
      const item = this.newVersionItem(input, version, facts);
      let stored: StoredVersion;
      const created = await this.putIfAbsent(item);
      if (created) {
        stored = item;
        await step('version-created', version);
      } else {
        const existing = await this.getStoredVersion(input.model, version);
        if (!existing) continue;
        if (existing.uploadId !== input.uploadId) {
          const next = (await this.latestVersionNumber(pk)) + 1;
          const e = new Expression();
          const moved = await this.updateIf(
            pk,
            claimSk,
            e,
            `SET ${e.name('version')} = ${e.value(next)}`,
            `${e.name('version')} = ${e.value(version)}`,
          );
          // Having moved it ourselves, we know the claim without reading it again.
          if (moved) knownClaim = { ...claim, version: next };
          continue;
        }
        stored = existing;
      }

      // 4. Finish: audit event, model record, claim marked done. Each step is idempotent, so a
      //    redelivery after a crash anywhere here just repeats it.
      await this.flushPendingAudit(stored);
      await step('audited', version);
      await this.recordLatestVersion(input, version);
      await step('model-updated', version);
      const e = new Expression();
      await this.update(pk, claimSk, e, `SET ${e.name('done')} = ${e.value(true)}`);
      await step('done', version);
      return { version, created, status: stored.status };
    }
    throw new ContentionError(input.model, 'registerUpload', this.maxAttempts);
  }

  private newVersionItem(input: RegisterUploadInput, version: number, facts: VersionFacts): StoredVersion {
    const audit: AuditEvent = {
      kind: 'registered',
      id: stableId('registered', input.uploadId),
      model: input.model,
      version,
      to: 'RECEIVED',
      at: input.at,
      actor: input.uploader,
      reason: `uploaded s3://${input.notebook.bucket}/${input.notebook.key}`,
      sourceEventId: input.sourceEventId,
    };
    const factHashes: Partial<Record<FactName, string>> = {};
    for (const [name, value] of presentFacts(facts)) factHashes[name] = factHash(value);
    return {
      pk: keys.model(input.model),
      sk: keys.version(version),
      type: 'VERSION',
      rev: 0,
      model: input.model,
      version,
      status: 'RECEIVED',
      uploadId: input.uploadId,
      uploader: input.uploader,
      owner: input.owner,
      createdAt: input.at,
      updatedAt: input.at,
      facts,
      factHashes,
      pendingAudit: audit,
      ...statusIndex('RECEIVED', input.at, input.model, version),
    };
  }

  private async recordLatestVersion(input: RegisterUploadInput, version: number): Promise<void> {
    const e = new Expression();
    const set = (name: string, value: unknown) => `${e.name(name)} = ${e.value(value)}`;
    const setIfAbsent = (name: string, value: unknown) =>
      `${e.name(name)} = if_not_exists(${e.name(name)}, ${e.value(value)})`;
    const latest = e.name('latestVersion');
    await this.updateIf(
      keys.model(input.model),
      keys.meta(),
      e,
      'SET ' +
        [
          set('type', 'MODEL'),
          set('model', input.model),
          set('owner', input.owner),
          set('latestVersion', version),
          set('updatedAt', input.at),
          set('gsi1pk', MODELS_PARTITION),
          set('gsi1sk', input.model),
          setIfAbsent('createdAt', input.at),
          setIfAbsent('aliases', {}),
          setIfAbsent('rev', 0),
        ].join(', '),
      // A later version's registration already updated the model: leave its owner and counter.
      `attribute_not_exists(${latest}) OR ${latest} < ${e.value(version)}`,
    );
  }

  private async latestVersionNumber(pk: string): Promise<number> {
    const e = new Expression();
    const page = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: `${e.name('pk')} = ${e.value(pk)} AND begins_with(${e.name('sk')}, ${e.value(keys.versionPrefix())})`,
        ProjectionExpression: e.name('version'),
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
        ...e.attributes(),
      }),
    );
    const first = page.Items?.[0];
    return first ? (unmarshallItem(first).version as number) : 0;
  }

  // ---------------------------------------------------------------- facts and transitions

  async recordFacts(model: string, version: number, facts: VersionFacts): Promise<RecordFactsResult> {
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const stored = await this.getStoredVersion(model, version);
      if (!stored) throw new NotFoundError(model, version);
      const plan = this.planFacts(stored, facts);
      if (plan.toWrite.length === 0) return { written: [], unchanged: plan.unchanged };
      const e = new Expression();
      const sets = [`${e.name('rev')} = ${e.value(stored.rev + 1)}`, ...factAssignments(e, plan.toWrite)];
      const updated = await this.updateIf(
        stored.pk,
        stored.sk,
        e,
        `SET ${sets.join(', ')}`,
        `${e.name('rev')} = ${e.value(stored.rev)}`,
      );
      if (updated) return { written: plan.toWrite.map(([name]) => name), unchanged: plan.unchanged };
    }
    throw new ContentionError(model, 'recordFacts', this.maxAttempts);
  }

  async transition(model: string, version: number, input: TransitionInput): Promise<TransitionResult> {
    return this.applyTransition(model, version, input);
  }

  private async applyTransition(
    model: string,
    version: number,
    input: TransitionInput,
    approval?: ApprovalRecord,
  ): Promise<TransitionResult> {
    requireText(input.sourceEventId, 'sourceEventId');
    const eventKey = `${input.sourceEventId}>${input.to}`;
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const stored = await this.getStoredVersion(model, version);
      if (!stored) throw new NotFoundError(model, version);
      await this.flushPendingAudit(stored);

      // A redelivered event: its change (facts included) is already complete, whatever happened since.
      if ((stored.appliedEvents ?? []).includes(eventKey)) {
        return { changed: false, status: stored.status, record: toVersionRecord(stored) };
      }
      // Another event already got the version here: only facts new to it remain to record.
      if (stored.status === input.to) {
        if (input.facts && (await this.recordFacts(model, version, input.facts)).written.length > 0) {
          const fresh = await this.getStoredVersion(model, version);
          if (fresh) return { changed: false, status: fresh.status, record: toVersionRecord(fresh) };
        }
        return { changed: false, status: stored.status, record: toVersionRecord(stored) };
      }
      const refuse = (refusal?: IllegalTransitionError['refusal']) =>
        new IllegalTransitionError(
          model,
          version,
          stored.status,
          input.to,
          allowedNext(stored.status),
          refusal,
        );
      if (input.expectedFrom && !input.expectedFrom.includes(stored.status)) {
        throw refuse({ kind: 'expected-from', expectedFrom: input.expectedFrom });
      }
      if (!canTransition(stored.status, input.to)) throw refuse();
      // A human decision needs its approver recorded (and the self-approval rule applied).
      if (stored.status === 'PENDING_APPROVAL' && input.to !== 'RETIRED' && !approval) {
        throw refuse({ kind: 'approval-required' });
      }
      const plan = this.planFacts(stored, input.facts ?? {});

      const audit: AuditEvent = {
        kind: 'transition',
        id: stableId('transition', version, input.sourceEventId, input.to),
        model,
        version,
        from: stored.status,
        to: input.to,
        at: input.at,
        actor: input.actor,
        reason: input.reason,
        sourceEventId: input.sourceEventId,
      };
      const e = new Expression();
      const set = (name: string, value: unknown) => `${e.name(name)} = ${e.value(value)}`;
      const sets = [
        set('status', input.to),
        set('updatedAt', input.at),
        ...Object.entries(statusIndex(input.to, input.at, model, version)).map(([name, value]) =>
          set(name, value),
        ),
        set('lastChange', pick(audit, 'from', 'to', 'at', 'actor', 'reason', 'sourceEventId')),
        set('pendingAudit', audit),
        set('rev', stored.rev + 1),
        ...factAssignments(e, plan.toWrite),
      ];
      if (approval) sets.push(set('approval', approval));
      const updated = await this.updateIf(
        stored.pk,
        stored.sk,
        e,
        `SET ${sets.join(', ')} ADD ${e.name('appliedEvents')} ${e.value(new Set([eventKey]))}`,
        `${e.name('rev')} = ${e.value(stored.rev)}`,
        true,
      );
      if (!updated) continue;
      const after = updated as unknown as StoredVersion;
      await this.flushPendingAudit(after);
      return { changed: true, status: input.to, record: toVersionRecord(after) };
    }
    throw new ContentionError(model, `transition to ${input.to}`, this.maxAttempts);
  }

  /** Which facts are new, which are already recorded with the same value; a different value throws. */
  private planFacts(stored: StoredVersion, facts: VersionFacts) {
    const toWrite: [FactName, unknown, string][] = [];
    const unchanged: FactName[] = [];
    for (const [name, value] of presentFacts(facts)) {
      const hash = factHash(value);
      const existing = stored.factHashes[name];
      if (existing === undefined) toWrite.push([name, value, hash]);
      else if (existing === hash) unchanged.push(name);
      else throw new ImmutableFactError(stored.model, stored.version, name);
    }
    if (toWrite.length > 0) {
      // The whole stored item counts: facts, their hashes and the bookkeeping.
      const grown: StoredVersion = {
        ...stored,
        facts: { ...stored.facts, ...Object.fromEntries(toWrite.map(([name, value]) => [name, value])) },
        factHashes: {
          ...stored.factHashes,
          ...Object.fromEntries(toWrite.map(([name, , hash]) => [name, hash])),
        },
      };
      this.assertFits(
        grown,
        toWrite.map(([name]) => name),
      );
    }
    return { toWrite, unchanged };
  }

  /** Refuse an item over the size budget, blaming the largest of the facts being written. */
  private assertFits(item: StoredVersion, writing: FactName[]): void {
    const size = itemSize(marshallItem(item as unknown as Record<string, unknown>));
    if (size <= this.itemSizeLimit) return;
    const largest = writing
      .map((name) => ({ name, size: itemSize(marshallItem({ [name]: item.facts[name] })) }))
      .sort((a, b) => b.size - a.size)[0];
    throw new FactTooLargeError(
      item.model,
      item.version,
      largest?.name ?? 'manifest',
      size,
      this.itemSizeLimit,
    );
  }

  async recordApproval(model: string, version: number, input: ApprovalInput): Promise<TransitionResult> {
    requireText(input.approver, 'approver');
    const stored = await this.getStoredVersion(model, version);
    if (!stored) throw new NotFoundError(model, version);
    if (stored.approval?.sourceEventId === input.sourceEventId) {
      // A redelivery: the decision is on the version; make sure its APPROVAL item exists too.
      await this.putApprovalItem(model, stored.approval);
      return { changed: false, status: stored.status, record: toVersionRecord(stored) };
    }
    const selfApproval = sameIdentity(input.approver, stored.uploader);
    if (selfApproval && !input.allowSelfApproval) throw new SelfApprovalError(model, version, input.approver);

    const approval: ApprovalRecord = {
      version,
      approver: input.approver,
      decision: input.decision,
      reason: input.reason,
      at: input.at,
      sourceEventId: input.sourceEventId,
      selfApproved: selfApproval,
    };
    const result = await this.applyTransition(
      model,
      version,
      {
        to: input.decision === 'approve' ? 'APPROVED' : 'DECLINED',
        expectedFrom: ['PENDING_APPROVAL'],
        actor: input.approver,
        reason: input.reason,
        sourceEventId: input.sourceEventId,
        at: input.at,
      },
      approval,
    );
    if (result.changed) await this.putApprovalItem(model, approval);
    return result;
  }

  private async putApprovalItem(model: string, approval: ApprovalRecord): Promise<void> {
    await this.putIfAbsent({
      pk: keys.model(model),
      sk: keys.approval(approval.version, approval.at),
      type: 'APPROVAL',
      model,
      ...approval,
    });
  }

  // ---------------------------------------------------------------- aliases

  async setAlias(
    model: string,
    alias: AliasName,
    version: number,
    input: SetAliasInput,
  ): Promise<SetAliasResult> {
    requireText(input.sourceEventId, 'sourceEventId');
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const meta = await this.getStoredModel(model);
      if (!meta) throw new NotFoundError(model);
      await this.flushPendingAudit(meta);
      const current = meta.aliases[alias];
      if (current === version) return { changed: false, previous: current };
      if (input.expectedCurrent !== undefined && input.expectedCurrent !== (current ?? null)) {
        throw new AliasConflictError(model, alias, input.expectedCurrent, current);
      }
      const target = await this.getStoredVersion(model, version);
      if (!target) throw new NotFoundError(model, version);
      const required: readonly Status[] = ALIAS_TARGET_STATUSES[alias];
      if (!required.includes(target.status)) {
        throw new IllegalAliasError(model, alias, version, target.status, required);
      }

      const audit: AuditEvent = {
        kind: 'alias',
        id: stableId('alias', alias, version, input.sourceEventId),
        model,
        alias,
        version,
        previousVersion: current,
        at: input.at,
        actor: input.actor,
        reason: input.reason,
        sourceEventId: input.sourceEventId,
      };
      const e = new Expression();
      const sets = [
        `${e.path('aliases', alias)} = ${e.value(version)}`,
        `${e.name('pendingAudit')} = ${e.value(audit)}`,
        `${e.name('rev')} = ${e.value(meta.rev + 1)}`,
      ];
      // Denormalised so productionSummary answers in one read; facts are immutable, so the copy
      // cannot go stale.
      if (alias === 'champion')
        sets.push(`${e.name('champion')} = ${e.value(championSnapshot(target, input))}`);
      const updated = await this.updateIf(
        meta.pk,
        meta.sk,
        e,
        `SET ${sets.join(', ')}`,
        `${e.name('rev')} = ${e.value(meta.rev)}`,
        true,
      );
      if (!updated) continue;
      await this.flushPendingAudit(updated as unknown as StoredModel);
      return { changed: true, previous: current };
    }
    throw new ContentionError(model, `setAlias ${alias}`, this.maxAttempts);
  }

  // ---------------------------------------------------------------- reads

  async getModel(model: string): Promise<ModelRecord | undefined> {
    const meta = await this.getStoredModel(model);
    return meta && toModelRecord(meta);
  }

  async getVersion(model: string, version: number): Promise<VersionRecord | undefined> {
    const stored = await this.getStoredVersion(model, version);
    return stored && toVersionRecord(stored);
  }

  async listVersions(model: string, options: ListVersionsOptions = {}): Promise<VersionRecord[]> {
    const e = new Expression();
    const items = await this.queryAll(
      {
        KeyConditionExpression: `${e.name('pk')} = ${e.value(keys.model(model))} AND begins_with(${e.name('sk')}, ${e.value(keys.versionPrefix())})`,
        ...(options.status ? { FilterExpression: `${e.name('status')} = ${e.value(options.status)}` } : {}),
        ScanIndexForward: !options.newestFirst,
        ConsistentRead: true,
      },
      e,
      options.limit,
    );
    return items.map((item) => toVersionRecord(item as unknown as StoredVersion));
  }

  async listModels(): Promise<ModelRecord[]> {
    const e = new Expression();
    const items = await this.queryAll(
      { IndexName: GSI1, KeyConditionExpression: `${e.name('gsi1pk')} = ${e.value(MODELS_PARTITION)}` },
      e,
    );
    return items.map((item) => toModelRecord(item as unknown as StoredModel));
  }

  async auditTrail(model: string, options: { version?: number } = {}): Promise<AuditEvent[]> {
    const e = new Expression();
    const items = await this.queryAll(
      {
        KeyConditionExpression: `${e.name('pk')} = ${e.value(keys.model(model))} AND begins_with(${e.name('sk')}, ${e.value(keys.eventPrefix())})`,
        ...(options.version === undefined
          ? {}
          : { FilterExpression: `${e.name('version')} = ${e.value(options.version)}` }),
        ConsistentRead: true,
      },
      e,
    );
    return items.map((item) => withoutKeys(item) as unknown as AuditEvent);
  }

  async versionsByStatus(status: Status, options: { updatedBefore?: string } = {}): Promise<VersionRecord[]> {
    const e = new Expression();
    const partition = `${e.name('gsi2pk')} = ${e.value(keys.statusPartition(status))}`;
    const items = await this.queryAll(
      {
        IndexName: GSI2,
        KeyConditionExpression:
          options.updatedBefore === undefined
            ? partition
            : `${partition} AND ${e.name('gsi2sk')} < ${e.value(options.updatedBefore)}`,
      },
      e,
    );
    return items.map((item) => toVersionRecord(item as unknown as StoredVersion));
  }

  async productionSummary(model: string): Promise<ProductionSummary | undefined> {
    // One Query on the model's META item: the champion's facts and approval were copied there when
    // the alias moved (see setAlias), so nothing else needs reading.
    const e = new Expression();
    const page = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: `${e.name('pk')} = ${e.value(keys.model(model))} AND ${e.name('sk')} = ${e.value(keys.meta())}`,
        ConsistentRead: true,
        ...e.attributes(),
      }),
    );
    const item = page.Items?.[0];
    if (!item) return undefined;
    const meta = toModelRecord(unmarshallItem(item) as unknown as StoredModel);
    return {
      model: meta.model,
      owner: meta.owner,
      latestVersion: meta.latestVersion,
      aliases: meta.aliases,
      ...(meta.champion ? { champion: meta.champion } : {}),
    };
  }

  // ---------------------------------------------------------------- drift and incidents

  async putDrift(model: string, input: DriftInput): Promise<{ created: boolean }> {
    const created = await this.putIfAbsent({
      pk: keys.model(model),
      sk: keys.drift(input.at),
      type: 'DRIFT',
      model,
      ...input,
    });
    return { created };
  }

  async listDrift(model: string, options: { since?: string; limit?: number } = {}): Promise<DriftRecord[]> {
    const e = new Expression();
    const pk = `${e.name('pk')} = ${e.value(keys.model(model))}`;
    const sk = e.name('sk');
    const items = await this.queryAll(
      {
        KeyConditionExpression:
          options.since === undefined
            ? `${pk} AND begins_with(${sk}, ${e.value(keys.driftPrefix())})`
            : `${pk} AND ${sk} BETWEEN ${e.value(keys.drift(options.since))} AND ${e.value(`${keys.driftPrefix()}\uffff`)}`,
        ScanIndexForward: false,
        ConsistentRead: true,
      },
      e,
      options.limit,
    );
    return items.map((item) => withoutKeys(item) as unknown as DriftRecord);
  }

  async putIncident(model: string, input: IncidentInput): Promise<{ id: string; created: boolean }> {
    const id = stableId('incident', input.sourceEventId);
    const created = await this.putIfAbsent({
      pk: keys.model(model),
      sk: keys.incident(input.at, id),
      type: 'INCIDENT',
      model,
      id,
      state: 'OPEN',
      ...input,
    });
    return { id, created };
  }

  async resolveIncident(
    model: string,
    incident: { at: string; id: string },
    input: { actor: string; resolution: string; at: string },
  ): Promise<{ changed: boolean }> {
    const pk = keys.model(model);
    const sk = keys.incident(incident.at, incident.id);
    const e = new Expression();
    const state = e.name('state');
    const changed = await this.updateIf(
      pk,
      sk,
      e,
      `SET ${state} = ${e.value('RESOLVED')}, ${e.name('resolvedAt')} = ${e.value(input.at)}, ` +
        `${e.name('resolvedBy')} = ${e.value(input.actor)}, ${e.name('resolution')} = ${e.value(input.resolution)}`,
      `attribute_exists(${e.name('pk')}) AND ${state} = ${e.value('OPEN')}`,
    );
    if (!changed && !(await this.get(pk, sk))) throw new NotFoundError(model);
    return { changed: Boolean(changed) };
  }

  async openIncidents(model: string): Promise<IncidentRecord[]> {
    return this.queryIncidents(model, true);
  }

  async listIncidents(model: string): Promise<IncidentRecord[]> {
    return this.queryIncidents(model, false);
  }

  private async queryIncidents(model: string, onlyOpen: boolean): Promise<IncidentRecord[]> {
    const e = new Expression();
    const items = await this.queryAll(
      {
        KeyConditionExpression: `${e.name('pk')} = ${e.value(keys.model(model))} AND begins_with(${e.name('sk')}, ${e.value(keys.incidentPrefix())})`,
        ...(onlyOpen ? { FilterExpression: `${e.name('state')} = ${e.value('OPEN')}` } : {}),
        ConsistentRead: true,
      },
      e,
    );
    return items.map((item) => withoutKeys(item) as unknown as IncidentRecord);
  }

  // ---------------------------------------------------------------- DynamoDB plumbing

  private async getStoredVersion(model: string, version: number): Promise<StoredVersion | undefined> {
    return (await this.get(keys.model(model), keys.version(version))) as StoredVersion | undefined;
  }

  private async getStoredModel(model: string): Promise<StoredModel | undefined> {
    return (await this.get(keys.model(model), keys.meta())) as StoredModel | undefined;
  }

  private async get(pk: string, sk: string): Promise<Record<string, unknown> | undefined> {
    const result = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: keyOf(pk, sk), ConsistentRead: true }),
    );
    return result.Item && unmarshallItem(result.Item);
  }

  /** Create-only put. False when the item already exists. */
  private async putIfAbsent(record: object): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshallItem(record as Record<string, unknown>),
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': 'pk' },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  private async update(pk: string, sk: string, e: Expression, updateExpression: string): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: keyOf(pk, sk),
        UpdateExpression: updateExpression,
        ...e.attributes(),
      }),
    );
  }

  /**
   * Conditional update. Undefined when the condition failed (the caller re-reads: dynalite returns no
   * item with the failure); otherwise the new item when asked for, else an empty record.
   */
  private async updateIf(
    pk: string,
    sk: string,
    e: Expression,
    updateExpression: string,
    condition: string,
    returnNew = false,
  ): Promise<Record<string, unknown> | undefined> {
    try {
      const result = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: keyOf(pk, sk),
          UpdateExpression: updateExpression,
          ConditionExpression: condition,
          ReturnValues: returnNew ? 'ALL_NEW' : 'NONE',
          ...e.attributes(),
        }),
      );
      return result.Attributes ? unmarshallItem(result.Attributes) : {};
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }

  /** Every page until LastEvaluatedKey is absent (a page can be empty after filtering and still not be the last). */
  private async queryAll(
    input: Omit<QueryCommandInput, 'TableName'>,
    e: Expression,
    limit?: number,
  ): Promise<Record<string, unknown>[]> {
    const results: Record<string, unknown>[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          ...input,
          TableName: this.tableName,
          ...(this.pageSize ? { Limit: this.pageSize } : {}),
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          ...e.attributes(),
        }),
      );
      for (const item of page.Items ?? []) {
        results.push(unmarshallItem(item));
        if (limit !== undefined && results.length >= limit) return results;
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return results;
  }

  /** Copy an item's pending audit event to its EVENT item (create-only), then clear it. */
  private async flushPendingAudit(item: Bookkeeping): Promise<void> {
    const audit = item.pendingAudit;
    if (!audit) return;
    await this.putIfAbsent({ pk: item.pk, sk: keys.event(audit.at, audit.id), type: 'EVENT', ...audit });
    const e = new Expression();
    await this.updateIf(
      item.pk,
      item.sk,
      e,
      `REMOVE ${e.name('pendingAudit')}`,
      `${e.path('pendingAudit', 'id')} = ${e.value(audit.id)}`,
    );
  }
}

// ---------------------------------------------------------------- mapping

function keyOf(pk: string, sk: string): Item {
  return { pk: marshall(pk), sk: marshall(sk) };
}

function statusIndex(status: Status, at: string, model: string, version: number) {
  return { gsi2pk: keys.statusPartition(status), gsi2sk: keys.statusSort(at, model, version) };
}

function factAssignments(e: Expression, toWrite: [FactName, unknown, string][]): string[] {
  return toWrite.flatMap(([name, value, hash]) => [
    `${e.path('facts', name)} = ${e.value(value)}`,
    `${e.path('factHashes', name)} = ${e.value(hash)}`,
  ]);
}

function toVersionRecord(stored: StoredVersion): VersionRecord {
  return {
    ...pick(stored, 'model', 'version', 'status', 'uploadId', 'uploader', 'owner', 'createdAt', 'updatedAt'),
    facts: stored.facts,
    ...(stored.approval ? { approval: stored.approval } : {}),
    ...(stored.lastChange ? { lastChange: stored.lastChange } : {}),
  };
}

function toModelRecord(stored: StoredModel): ModelRecord {
  return {
    ...pick(stored, 'model', 'owner', 'createdAt', 'updatedAt', 'latestVersion'),
    aliases: stored.aliases ?? {},
    ...(stored.champion ? { champion: stored.champion } : {}),
  };
}

function championSnapshot(target: StoredVersion, input: SetAliasInput): ChampionSnapshot {
  const { facts } = target;
  return {
    version: target.version,
    status: target.status,
    uploader: target.uploader,
    ...pick(
      facts,
      'notebook',
      'manifestHash',
      'dataRefs',
      'trainingImage',
      'servingImage',
      'trainingJob',
      'artifact',
      'metrics',
    ),
    ...(target.approval ? { approval: target.approval } : {}),
    promotedAt: input.at,
    promotedBy: input.actor,
    promotionReason: input.reason,
  };
}

const KEY_ATTRIBUTES = new Set(['pk', 'sk', 'type', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk']);

function withoutKeys(item: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(item).filter(([name]) => !KEY_ATTRIBUTES.has(name)));
}

/** The named members that are defined. */
function pick<T extends object, K extends keyof T>(source: T, ...names: K[]): Pick<T, K> {
  const picked = {} as Pick<T, K>;
  for (const name of names) if (source[name] !== undefined) picked[name] = source[name];
  return picked;
}

/** Identities are compared without case: alice@example.com and Alice@Example.com are one person. */
function sameIdentity(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

function requireText(value: unknown, field: string): void {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new TypeError(`${field} must be a non-empty string`);
  }
}

function isConditionalCheckFailed(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException';
}
