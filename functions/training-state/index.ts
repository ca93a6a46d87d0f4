/** training-state: "SageMaker Training Job State Change" -> onTrainingJobStateChange. */
import { parseTrainingJobStateChange } from '#core/events/sagemaker';
import type { TrainingJobStateChange, TrainingOutcome } from '#core/service/contracts';
import { onTrainingJobStateChange } from '#core/service/training';
import { defaultDeps, type HandlerDeps, makeEventHandler, type UseCase } from '../commons/handler';

export interface TrainingStateDeps extends HandlerDeps {
  onTrainingJobStateChange: UseCase<TrainingJobStateChange, TrainingOutcome>;
}

export const makeHandler = (deps: TrainingStateDeps) =>
  makeEventHandler(
    {
      name: 'training-state',
      parse: parseTrainingJobStateChange,
      run: (services, change) => deps.onTrainingJobStateChange(services, change),
    },
    deps,
  );

export const handler = makeHandler({ ...defaultDeps('training-state'), onTrainingJobStateChange });
