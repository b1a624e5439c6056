import React, { ChangeEvent, useEffect } from 'react';
import { DataSourcePluginOptionsEditorProps } from '@grafana/data';
import { Field, FieldSet, Input, SecretInput } from '@grafana/ui';

import { AgentInsightsOptions, AgentInsightsSecureOptions, DEFAULT_SERVER_URL } from '../types';

type Props = DataSourcePluginOptionsEditorProps<AgentInsightsOptions, AgentInsightsSecureOptions>;

/**
 * The server's address (plain settings) and an API key (a secret: Grafana encrypts it and only
 * the plugin's backend reads it; the browser only learns whether one is configured).
 */
export function ConfigEditor({ options, onOptionsChange }: Props) {
  const { jsonData, secureJsonFields, secureJsonData } = options;

  // A new data source starts with the server's default address.
  useEffect(() => {
    if (jsonData.url === undefined) {
      onOptionsChange({ ...options, jsonData: { ...jsonData, url: DEFAULT_SERVER_URL } });
    }
    // Only once, for a data source that has no address yet.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const onUrlChange = (event: ChangeEvent<HTMLInputElement>) => {
    onOptionsChange({ ...options, jsonData: { ...jsonData, url: event.target.value } });
  };

  const onApiKeyChange = (event: ChangeEvent<HTMLInputElement>) => {
    onOptionsChange({ ...options, secureJsonData: { ...secureJsonData, apiKey: event.target.value } });
  };

  const onApiKeyReset = () => {
    onOptionsChange({
      ...options,
      secureJsonFields: { ...secureJsonFields, apiKey: false },
      secureJsonData: { ...secureJsonData, apiKey: '' },
    });
  };

  return (
    <FieldSet label="Agent Insights server">
      <Field
        label="Server URL"
        description={`Where Grafana's server reaches the Agent Insights server (OTLP/HTTP port, default ${DEFAULT_SERVER_URL}).`}
        required
      >
        <Input
          id="config-editor-url"
          value={jsonData.url ?? ''}
          placeholder={DEFAULT_SERVER_URL}
          width={50}
          onChange={onUrlChange}
        />
      </Field>
      <Field
        label="API key"
        description={
          <>
            A key with the <code>read</code> scope, e.g. from{' '}
            <code>npx agent-insights keys create --scopes read --name grafana</code> or{' '}
            <code>AGENT_INSIGHTS_READ_KEY</code>. Stored encrypted; only the plugin&apos;s backend sends it, never the
            browser.
          </>
        }
        required
      >
        <SecretInput
          id="config-editor-api-key"
          isConfigured={Boolean(secureJsonFields?.apiKey)}
          value={secureJsonData?.apiKey ?? ''}
          placeholder="Enter an API key with the read scope"
          width={50}
          onReset={onApiKeyReset}
          onChange={onApiKeyChange}
        />
      </Field>
    </FieldSet>
  );
}
