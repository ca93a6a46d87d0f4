/**
 * cdk-nag acknowledgements, kept honest: every one carries a reason written next to the thing it
 * excuses, IAM wildcards are acknowledged per statement with that statement's own justification,
 * and acknowledgementsIn() lists them all (docs/deploy.md prints the list; a test keeps both equal).
 */
import { Stack, Validations } from 'aws-cdk-lib';
import { type IGrantable, PolicyStatement, type PolicyStatementProps } from 'aws-cdk-lib/aws-iam';
import { Construct, type IConstruct } from 'constructs';

export interface Acknowledgement {
  /** Construct path the acknowledgement applies to (and everything below it). */
  path: string;
  /** cdk-nag finding id, e.g. `AwsSolutions-IAM5[Action::s3:GetObject*]`. */
  id: string;
  reason: string;
}

/** Acknowledges one cdk-nag finding on `scope` (and its children) with a specific reason. */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  if (reason.trim().length < 20)
    throw new Error(`The acknowledgement of ${id} at ${scope.node.path} needs a specific reason.`);
  Validations.of(scope).acknowledge({ id, reason });
}

/** Every acknowledgement recorded under `root`, in construct-tree order. */
export function acknowledgementsIn(root: IConstruct): Acknowledgement[] {
  const out: Acknowledgement[] = [];
  for (const node of root.node.findAll()) {
    for (const entry of node.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY || !entry.data) continue;
      for (const [key, reason] of Object.entries(entry.data as Record<string, unknown>)) {
        const id = key.replace(/^annotation::/i, '');
        const text = typeof reason === 'string' ? reason : String((reason as { reason?: unknown })?.reason);
        out.push({ path: node.node.path, id, reason: text });
      }
    }
  }
  return out;
}

/**
 * The text cdk-nag shows for a policy resource: CloudFormation references flattened to
 * `<LogicalId.Attr>` / `<LogicalId>` and `${...}` to `<...>`, so an acknowledgement id can name it.
 */
export function flattenReference(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (Array.isArray(v['Fn::Join'])) {
      const [delimiter, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(flattenReference).join(delimiter);
    }
    if ('Fn::Sub' in v) return flattenReference(v['Fn::Sub']);
    if (Array.isArray(v['Fn::GetAtt'])) {
      const [resource, attribute] = v['Fn::GetAtt'] as [unknown, unknown];
      return `<${flattenReference(resource)}.${flattenReference(attribute)}>`;
    }
    if ('Fn::ImportValue' in v) return flattenReference(v['Fn::ImportValue']);
    if ('Ref' in v) return `<${flattenReference(v.Ref)}>`;
  }
  return JSON.stringify(value);
}

/** The AwsSolutions-IAM5 finding ids of a resolved policy statement (wildcard actions and resources). */
function statementFindings(json: {
  Effect?: string;
  Action?: string | string[];
  Resource?: unknown;
}): string[] {
  if (json.Effect !== 'Allow') return [];
  const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  const findings: string[] = [];
  for (const action of list(json.Action)) if (action.includes('*')) findings.push(`Action::${action}`);
  for (const resource of list(json.Resource)) {
    const flat = flattenReference(resource);
    if (flat.includes('*')) findings.push(`Resource::${flat}`);
  }
  return findings;
}

/** The AwsSolutions-IAM5 finding ids a statement produces. */
export function wildcardFindings(scope: IConstruct, statement: PolicyStatement): string[] {
  return statementFindings(Stack.of(scope).resolve(statement.toStatementJson()));
}

/**
 * Acknowledges every AwsSolutions-IAM5 finding of a role's default policy, for roles whose
 * statements CDK writes (the BucketDeployment provider). `reasonFor` must give a reason for each
 * finding; one it does not know fails synthesis, so a new wildcard never slips in unexplained.
 */
export function acknowledgeRoleWildcards(
  role: IConstruct,
  reasonFor: (finding: string) => string | undefined,
): void {
  const policy = role.node.tryFindChild('DefaultPolicy') as { document?: { toJSON(): unknown } } | undefined;
  if (!policy?.document) return;
  const document = Stack.of(role).resolve(policy.document.toJSON()) as { Statement?: object[] };
  const findings = new Set((document.Statement ?? []).flatMap((s) => statementFindings(s)));
  for (const finding of findings) {
    const reason = reasonFor(finding);
    if (!reason) throw new Error(`${role.node.path}: no reason known for the wildcard ${finding}.`);
    acknowledge(role, `AwsSolutions-IAM5[${finding}]`, reason);
  }
}

export interface JustifiedStatement extends PolicyStatementProps {
  /**
   * Why the statement needs a wildcard (action or resource). Required when it has one: it becomes
   * the cdk-nag acknowledgement of each wildcard finding of this statement.
   */
  why?: string;
}

/**
 * Adds an Allow statement to `grantee`'s identity policy. A statement with a wildcard must say
 * why; each of its AwsSolutions-IAM5 findings is acknowledged on the grantee with that reason.
 */
export function allow(grantee: IGrantable & IConstruct, props: JustifiedStatement): PolicyStatement {
  const { why, ...statementProps } = props;
  const statement = new PolicyStatement(statementProps);
  const findings = wildcardFindings(grantee, statement);
  if (findings.length > 0) {
    if (!why)
      throw new Error(
        `${grantee.node.path}: a statement with wildcards (${findings.join(', ')}) needs a reason ('why').`,
      );
    // The finding is reported on the policy of the principal (a function's role, not the function).
    const principal = grantee.grantPrincipal as unknown;
    const owner = Construct.isConstruct(principal) ? principal : grantee;
    for (const finding of findings) acknowledge(owner, `AwsSolutions-IAM5[${finding}]`, why);
  }
  grantee.grantPrincipal.addToPrincipalPolicy(statement);
  return statement;
}
