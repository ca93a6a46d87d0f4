/* Generated from schemas/manifest.schema.json by scripts/generate-types.ts. Do not edit: change the schema and run npm run gen:types. */

/**
 * The operational manifest of a model notebook: what it trains on, where, which metrics and quality gates decide whether it ships, how it is served, its SLOs, its drift policy and its runbook. It lives in the notebook metadata under `nbops`, or in a sidecar `<name>.nbops.yaml` uploaded first.
 */
export interface Manifest {
/**
 * URL or path of this JSON Schema, so editors can autocomplete and check the manifest. Ignored by nbops.
 */
$schema?: string
/**
 * Manifest format version. Always `nbops/v1`.
 */
apiVersion: "nbops/v1"
/**
 * Identity of the model. Every upload of a notebook with the same `model.name` becomes a new version of that model.
 */
model: {
/**
 * Model name: lowercase letters, digits and single hyphens, starting with a letter, at most 46 characters. SageMaker job, model and endpoint names are derived from it, so it cannot change once versions exist.
 */
name: string
/**
 * Team or e-mail address responsible for the model; named in alarms and incident records.
 */
owner: string
/**
 * What the model predicts and for whom, in a sentence or two.
 */
description?: string
/**
 * Free-form labels copied as AWS tags to the training job, model and endpoint (at most 40; nbops adds its own).
 */
tags?: {
/**
 * Tag value: up to 256 letters, digits, spaces and _ . : / = + - @.
 */
[k: string]: string | undefined
}
}
/**
 * Notebook parameters: each name must be assigned in the code cell tagged `parameters`. nbops injects the values after that cell (papermill convention) and passes them to SageMaker as HyperParameters, so each value is at most 256 characters once JSON-encoded and there are at most 90 of them.
 */
parameters?: {
/**
 * A parameter value: string, number, boolean or null.
 */
[k: string]: string | number | boolean | null | undefined
}
/**
 * Training data. Each entry becomes a SageMaker input channel, available to the notebook under `/opt/ml/input/data/<name>`. At most 16 (SageMaker allows 20 channels; nbops uses 4). Pin each object with `versionId` or `sha256` so a version can be reproduced.
 */
data?: {
/**
 * Channel name: 1-64 letters, digits, `.`, `-` and `_`; unique; not one of the names nbops uses itself (notebook, nbops-runtime, model, output).
 */
name: string
/**
 * S3 object or prefix: `s3://bucket/key` or `s3://bucket/prefix/`. The bucket must be in the service's Region.
 */
uri: string
/**
 * S3 object version to read (versioned buckets). Pins the data for reproducibility.
 */
versionId?: string
/**
 * Expected SHA-256 of the object (64 hex digits); the submission is rejected when the object differs.
 */
sha256?: string
/**
 * MIME type passed to SageMaker as the channel's ContentType, e.g. `text/csv`.
 */
contentType?: string
/**
 * What this data is, for people reading the manifest.
 */
description?: string
}[]
/**
 * How the notebook is run headless as a SageMaker training job.
 */
training: {
/**
 * ECR image URI the notebook runs in (it must have Python 3.9+ and the notebook's dependencies), e.g. an AWS Deep Learning Container.
 */
image: string
/**
 * SageMaker training instance type. nbops trains on GPUs: ml.g*, ml.p* or ml.trn*.
 */
instanceType: string
/**
 * Number of training instances; more than 1 only helps when the notebook trains distributed.
 */
instanceCount?: number
/**
 * Size in GB of the storage volume attached to each instance (ignored on instance families with fixed NVMe storage such as ml.g5 and ml.p4d).
 */
volumeSizeGB?: number
/**
 * Longest the training job may run (SageMaker MaxRuntimeInSeconds, at most 28 days); the job is stopped after it.
 */
maxRuntime?: (number | string)
/**
 * Managed spot training: cheaper, but the job can be interrupted and resumed, so the notebook must checkpoint.
 */
spot?: {
/**
 * Use managed spot instances.
 */
enabled?: boolean
/**
 * Longest to wait for spot capacity plus training time (SageMaker MaxWaitTimeInSeconds, at least maxRuntime). Absent: twice training.maxRuntime.
 */
maxWait?: (number | string)
}
/**
 * Checkpointing: nbops gives the job an S3 location synced with /opt/ml/checkpoints, so an interrupted spot job resumes instead of starting over.
 */
checkpoints?: {
/**
 * Sync /opt/ml/checkpoints to S3 during training.
 */
enabled?: boolean
}
/**
 * Environment variables for the training container (at most 90; nbops sets a few NBOPS_* variables itself). Never put secrets here: they are visible in the job description.
 */
environment?: {
/**
 * Environment variable value, at most 512 characters.
 */
[k: string]: string | undefined
}
/**
 * Longest a single notebook cell may run before the run fails. Absent: cells are bounded only by maxRuntime.
 */
cellTimeout?: (number | string)
}
/**
 * Metrics the notebook logs (with `log_metric` from the nbops helper). SageMaker captures them from the job log; quality gates refer to them by name. At most 40.
 * 
 * @maxItems 40
 */
metrics?: {
/**
 * Metric name: letters, digits and _ . : / -, at most 200 characters (so the SageMaker metric regex stays under 500).
 */
name: string
/**
 * Whether higher (`maximize`) or lower (`minimize`) values are better; decides what "worse than the champion" means.
 */
goal: ("maximize" | "minimize")
/**
 * What the metric measures and on which data.
 */
description?: string
}[]
/**
 * Quality gates checked after training: a version that fails any gate is not deployed.
 * 
 * Items: A gate needs at least one of min, max or noWorseThanChampionBy.
 */
gates?: {
/**
 * Name of a metric declared in `metrics`.
 */
metric: string
/**
 * The metric's final value must be at least this.
 */
min?: number
/**
 * The metric's final value must be at most this.
 */
max?: number
/**
 * Largest allowed regression against the version in production (absolute difference, in the direction of the metric's goal). Ignored while there is no production version.
 */
noWorseThanChampionBy?: number
}[]
/**
 * How the model is served on its SageMaker endpoint.
 */
serving?: {
/**
 * ECR image URI of the inference container.
 */
image: string
/**
 * SageMaker endpoint instance type.
 */
instanceType: string
/**
 * Number of endpoint instances. With 2 or more, a canary can shift part of the fleet at a time.
 */
instanceCount?: number
/**
 * Content type of inference requests; data capture and drift evaluation parse payloads with it.
 */
contentType?: ("text/csv" | "application/json")
/**
 * Content type of inference responses. Absent: same as contentType.
 */
accept?: ("text/csv" | "application/json")
/**
 * The model's input features in payload column order (CSV) or key order (JSON). Drift evaluation compares each feature with the training baseline.
 * 
 * @maxItems 1000
 */
features?: {
/**
 * Feature name, as in the training data.
 */
name: string
/**
 * `numeric` (compared as a distribution of numbers) or `categorical` (compared as category frequencies).
 */
type: ("numeric" | "categorical")
}[]
/**
 * SageMaker data capture of requests and responses; drift evaluation reads it.
 */
dataCapture?: {
/**
 * Capture requests and responses to S3.
 */
enabled?: boolean
/**
 * Share of requests captured, as a whole percentage 0-100.
 */
samplingPercent?: number
}
/**
 * Environment variables for the inference container (at most 90). Never put secrets here.
 */
environment?: {
/**
 * Environment variable value, at most 1024 characters.
 */
[k: string]: string | undefined
}
}
/**
 * How a new version replaces the one in production (SageMaker blue/green deployment guardrails).
 */
deployment?: {
/**
 * `manual`: a person approves each version that passed its gates (`nbops approve`); `auto`: deploy as soon as the gates pass. The platform policy can force manual.
 */
approval?: ("manual" | "auto")
/**
 * `canary`: shift canaryPercent of capacity, bake, then the rest; `linear`: shift linearStepPercent per step, baking after each; `all-at-once`: shift everything, then bake.
 */
strategy?: ("canary" | "linear" | "all-at-once")
/**
 * Canary size as a percentage of the endpoint's capacity (1-50). Used when strategy is canary.
 */
canaryPercent?: number
/**
 * Share of capacity shifted per step (10-50). Used when strategy is linear.
 */
linearStepPercent?: number
/**
 * How long each traffic step is watched before the next (SageMaker WaitIntervalInSeconds, 0-3600 s). A rollback alarm during it rolls the deployment back.
 */
bakeTime?: (number | string)
/**
 * How long after a deployment completes a paging alarm still triggers an automatic rollback to the previous version.
 */
rollbackWindow?: (number | string)
}
/**
 * Service level objectives of the endpoint; nbops turns them into CloudWatch alarms that also guard deployments.
 */
slo?: {
/**
 * Latency objective: the chosen percentile of model latency stays under thresholdMs.
 */
latency?: {
/**
 * Latency percentile the objective is about.
 */
percentile: ("p50" | "p90" | "p95" | "p99" | "p99.9")
/**
 * Latency objective in milliseconds.
 */
thresholdMs: number
}
/**
 * Availability objective: percentage of requests that succeed (not 5xx), e.g. 99.9. Error-budget burn-rate alarms are derived from it.
 */
availability?: number
}
/**
 * Scheduled drift evaluation of captured requests against the training baseline. Needs serving.features and data capture.
 */
drift?: {
/**
 * EventBridge schedule expression: `rate(1 hour)`, `rate(30 minutes)` (singular unit when the value is 1) or `cron(min hour day-of-month month day-of-week year)` in UTC with `?` in day-of-month or day-of-week.
 */
schedule?: string
/**
 * Drift statistic. `auto` picks per feature (KS or Wasserstein for numeric features, chi-squared or Jensen-Shannon for categorical ones, by sample size); `psi` population stability index; `js` Jensen-Shannon distance; `ks` Kolmogorov-Smirnov; `wasserstein` (normalised by the baseline's standard deviation); `chi2` chi-squared; `linf` L-infinity distance.
 */
method?: ("auto" | "psi" | "js" | "ks" | "wasserstein" | "chi2" | "linf")
/**
 * A feature drifts when its statistic crosses this value (for the ks and chi2 tests: when the p-value falls below it). Absent: each method's default.
 */
threshold?: number
/**
 * Share of features (0-1) that must drift for the whole dataset to count as drifted.
 */
datasetShare?: number
/**
 * How much recent captured traffic each evaluation reads.
 */
window?: (number | string)
/**
 * Evaluations with fewer captured records than this report insufficient data instead of a drift verdict.
 */
minRecords?: number
/**
 * What dataset drift does: `alarm` raises the drift alarm; `retrain` also starts a new training run of the production version's notebook.
 */
action?: ("alarm" | "retrain")
/**
 * Least time between two drift-triggered retrains of the model.
 */
retrainCooldown?: (number | string)
}
/**
 * What an operator does when this model's alarms fire: a URL or short text. Included in every alarm notification.
 */
runbook?: string
}
