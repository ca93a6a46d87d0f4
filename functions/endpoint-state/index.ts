/** endpoint-state: "SageMaker Endpoint (Deployment) State Change" -> onEndpointStateChange. */
import { parseEndpointStateChange } from '#core/events/sagemaker';
import type { EndpointOutcome, EndpointStateChange } from '#core/service/contracts';
import { onEndpointStateChange } from '#core/service/endpoint';
import { defaultDeps, type HandlerDeps, makeEventHandler, type UseCase } from '../commons/handler';

export interface EndpointStateDeps extends HandlerDeps {
  onEndpointStateChange: UseCase<EndpointStateChange, EndpointOutcome>;
}

export const makeHandler = (deps: EndpointStateDeps) =>
  makeEventHandler(
    {
      name: 'endpoint-state',
      parse: parseEndpointStateChange,
      run: (services, change) => deps.onEndpointStateChange(services, change),
    },
    deps,
  );

export const handler = makeHandler({ ...defaultDeps('endpoint-state'), onEndpointStateChange });
