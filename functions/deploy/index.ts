/** deploy: nbops "Version Approved" -> deployVersion. */
import { parseVersionApproved } from '#core/events/nbops';
import type { DeployOutcome, VersionApproved } from '#core/service/contracts';
import { deployVersion } from '#core/service/deploy';
import { defaultDeps, type HandlerDeps, makeEventHandler, type UseCase } from '../commons/handler';

export interface DeployDeps extends HandlerDeps {
  deployVersion: UseCase<VersionApproved, DeployOutcome>;
}

export const makeHandler = (deps: DeployDeps) =>
  makeEventHandler(
    {
      name: 'deploy',
      parse: parseVersionApproved,
      run: (services, approval) => deps.deployVersion(services, approval),
    },
    deps,
  );

export const handler = makeHandler({ ...defaultDeps('deploy'), deployVersion });
