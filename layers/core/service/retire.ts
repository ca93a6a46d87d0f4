/**
 * Retire a model (an operator's decision): it stops serving and stops costing, and its history
 * stays. In order, each step idempotent so a retried request finishes what an earlier one began:
 *
 *   refuse while a version is TRAINING or DEPLOYING (let it finish or fail; the sweep ends stuck ones)
 *   -> delete the drift schedule -> delete the alarms (composites first) -> DeleteEndpoint
 *   -> open incidents resolved (their alarms are gone and can never report OK)
 *   -> every resting version RETIRED (audit trail, drift and incident items, S3 objects, models
 *      and endpoint configs are kept: they are the history and cost nothing to keep)
 *
 * The champion alias keeps naming the last production version, for the record; its status says
 * it no longer serves. A RECEIVED version (never validated) cannot be retired and is left as is.
 */
import { allAlarmNames } from '#core/alarms/slo';
import { endpointName } from '#core/manifest/names';
import type { Services } from '#core/ports';
import { canTransition, IN_FLIGHT_STATUSES } from '#core/registry/lifecycle';
import { advance, isModelName } from './context';
import type { RetireOutcome, RetireRequest } from './contracts';
import { deleteAlarms } from './deploy';
import { driftScheduleName } from './endpoint';

export async function retireModel(services: Services, request: RetireRequest): Promise<RetireOutcome> {
  const { model } = request;
  const refused = (reason: string): RetireOutcome => ({ kind: 'refused', model, reason });
  if (!isModelName(model)) return refused(`"${model}" is not a model name`);
  if (!request.actor.trim() || !request.reason.trim())
    return refused('say who retires the model and why (actor and reason are recorded in the audit trail)');
  const meta = await services.registry.getModel(model);
  if (!meta) return refused(`model ${model} is not registered`);
  const versions = await services.registry.listVersions(model);
  const busy = versions.filter((v) => IN_FLIGHT_STATUSES.includes(v.status));
  if (busy.length > 0)
    return refused(
      `${busy.map((v) => `v${v.version} is ${v.status}`).join(', ')}; retire ${model} once ${busy.length === 1 ? 'it has' : 'they have'} finished (or failed: the stuck-version sweep ends those past their limits)`,
    );

  await services.schedules.deleteSchedule(driftScheduleName(model));
  await deleteAlarms(services, allAlarmNames(model));
  const name = endpointName(model);
  const endpoint = await services.sagemaker.describeEndpoint(name);
  let endpointDeleted = false;
  if (endpoint && endpoint.EndpointStatus !== 'Deleting') {
    await services.sagemaker.deleteEndpoint(name);
    endpointDeleted = true;
  }

  // Deleted alarms never go back to OK, so their incidents would stay open for good.
  for (const incident of await services.registry.openIncidents(model))
    await services.registry.resolveIncident(
      model,
      { at: incident.at, id: incident.id },
      { actor: request.actor, resolution: `model retired: ${request.reason}`, at: request.at },
    );

  const retired: number[] = [];
  const unchanged: { version: number; status: string }[] = [];
  for (const version of versions) {
    if (version.status === 'RETIRED' || !canTransition(version.status, 'RETIRED')) {
      unchanged.push({ version: version.version, status: version.status });
      continue;
    }
    const moved = await advance(services, version, {
      to: 'RETIRED',
      actor: request.actor,
      reason: `model retired: ${request.reason}`,
      sourceEventId: request.requestId,
      at: request.at,
    });
    if (moved.changed) retired.push(version.version);
    else unchanged.push({ version: version.version, status: moved.record.status });
  }
  if (retired.length > 0 || endpointDeleted)
    await services.notifier.notify({
      severity: 'info',
      subject: `nbops: ${model} retired`,
      message: `${request.actor} retired ${model}: ${request.reason}.\n${endpointDeleted ? `Endpoint ${name} is being deleted; its` : 'Its'} alarms and drift schedule are gone. Versions retired: ${retired.map((v) => `v${v}`).join(', ') || 'none'}. The registry keeps the model's history.`,
      model,
    });
  return { kind: 'retired', model, endpointDeleted, retired, unchanged };
}
