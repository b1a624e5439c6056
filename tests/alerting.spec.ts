import { expect, test } from '@grafana/plugin-e2e';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';

import { skipWithoutGrafana } from './grafana';

skipWithoutGrafana();

/**
 * The provisioned alert rules (provisioning/alerting/rules.yml), evaluated by the Grafana of
 * `docker compose up` with the demo traffic flowing: each rule opens in the alert rule editor and
 * its preview answers every query through the plugin, with one labelled series per agent (or tool)
 * and one condition value per instance.
 *
 * The file is read here with the yaml package rather than with readProvisionedAlertRule: that
 * fixture replaces every $name by an environment variable, which would empty the $refIds of the
 * rules' math expressions (Grafana itself does not interpolate the rules' queries).
 */
interface RuleNode {
  refId: string;
  datasourceUid: string;
  model: { groupBy?: string; type?: string };
}
interface Rule {
  uid: string;
  title: string;
  condition: string;
  data: RuleNode[];
}
interface FrameJson {
  schema?: { fields?: Array<{ labels?: Record<string, string> }> };
  data?: { values?: unknown[][] };
}

const file = parse(readFileSync(resolve(process.cwd(), 'provisioning', 'alerting', 'rules.yml'), 'utf8')) as {
  groups: Array<{ rules: Rule[] }>;
};
const rules = file.groups.flatMap((g) => g.rules);

const labelsOf = (frames: FrameJson[] = [], key: string) =>
  frames.flatMap((f) => (f.schema?.fields ?? []).map((field) => field.labels?.[key]).filter((v): v is string => !!v));

for (const rule of rules) {
  const dimension = rule.data.find((d) => d.model.groupBy)?.model.groupBy;

  test(`alert rule "${rule.title}" evaluates through the plugin${dimension ? `, one instance per ${dimension}` : ''}`, async ({
    gotoAlertRuleEditPage,
  }) => {
    const editPage = await gotoAlertRuleEditPage({ uid: rule.uid });
    const evaluation = editPage.evaluate();
    await expect(evaluation).toBeOK();
    const response = await evaluation;

    const body = (await response.json()) as { results: Record<string, { status?: number; frames?: FrameJson[] }> };
    for (const query of rule.data.filter((d) => d.datasourceUid !== '__expr__')) {
      const result = body.results[query.refId];
      expect(result, `query ${query.refId} has an answer`).toBeTruthy();
      expect(result.frames?.length ?? 0, `query ${query.refId} returned frames`).toBeGreaterThan(0);
      if (dimension) {
        // The demo traffic runs several agents and tools: the series are labelled per value.
        expect(
          labelsOf(result.frames, dimension).length,
          `query ${query.refId} has ${dimension} labels`
        ).toBeGreaterThan(0);
      }
    }
    const condition = body.results[rule.condition];
    expect(condition?.frames?.length ?? 0, 'the condition has a value per instance').toBeGreaterThan(0);
    if (dimension) {
      expect(
        labelsOf(condition.frames, dimension).length,
        `the condition's instances are labelled by ${dimension}`
      ).toBeGreaterThan(0);
    }
  });
}
