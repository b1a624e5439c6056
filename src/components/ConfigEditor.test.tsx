import React, { useState } from 'react';
import { fireEvent, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { DataSourceSettings } from '@grafana/data';

import { ConfigEditor } from './ConfigEditor';
import { AgentInsightsOptions, AgentInsightsSecureOptions } from '../types';

type Settings = DataSourceSettings<AgentInsightsOptions, AgentInsightsSecureOptions>;

function settings(overrides: Partial<Settings> = {}): Settings {
  return {
    id: 1,
    uid: 'agent-insights-uid',
    orgId: 1,
    name: 'Agent Insights',
    type: 'agentinsights-agentinsights-datasource',
    typeName: 'Agent Insights',
    typeLogoUrl: '',
    access: 'proxy',
    url: '',
    user: '',
    basicAuth: false,
    basicAuthUser: '',
    isDefault: false,
    jsonData: {},
    secureJsonFields: {},
    readOnly: false,
    withCredentials: false,
    ...overrides,
  } as Settings;
}

let onOptionsChange: jest.Mock;

/** The editor inside the settings page, which keeps what it reports. */
function Page({ initial }: { initial: Settings }) {
  const [options, setOptions] = useState(initial);
  return (
    <ConfigEditor
      options={options}
      onOptionsChange={(next) => {
        onOptionsChange(next);
        setOptions(next);
      }}
    />
  );
}

const last = (): Settings => onOptionsChange.mock.calls[onOptionsChange.mock.calls.length - 1][0];

beforeEach(() => {
  onOptionsChange = jest.fn();
});

describe('ConfigEditor', () => {
  it('gives a new data source the default server URL and takes another', () => {
    render(<Page initial={settings()} />);
    expect(last().jsonData.url).toBe('http://localhost:4318');
    const url = screen.getByRole('textbox', { name: /Server URL/ });
    expect(url).toHaveValue('http://localhost:4318');
    fireEvent.change(url, { target: { value: 'https://insights.example.com' } });
    expect(last().jsonData).toEqual({ url: 'https://insights.example.com' });
    expect(last().secureJsonData).toBeUndefined();
  });

  it('keeps an existing server URL', () => {
    render(<Page initial={settings({ jsonData: { url: 'http://server:4318' } })} />);
    expect(onOptionsChange).not.toHaveBeenCalled();
    expect(screen.getByRole('textbox', { name: /Server URL/ })).toHaveValue('http://server:4318');
  });

  it('stores the API key as a secret, never in the plain settings', async () => {
    const user = userEvent.setup();
    render(<Page initial={settings({ jsonData: { url: 'http://server:4318' } })} />);
    expect(screen.getByText('read', { selector: 'code' })).toBeInTheDocument();
    await user.type(screen.getByPlaceholderText(/API key/), 'ai_read_secret');
    expect(last().secureJsonData).toEqual({ apiKey: 'ai_read_secret' });
    expect(JSON.stringify(last().jsonData)).not.toContain('ai_read_secret');
  });

  it('shows a configured key as configured and clears it on reset', async () => {
    const user = userEvent.setup();
    render(
      <Page initial={settings({ jsonData: { url: 'http://server:4318' }, secureJsonFields: { apiKey: true } })} />
    );
    const key = screen.getByPlaceholderText(/API key/);
    expect(key).toBeDisabled();
    expect(key).toHaveValue('configured');
    await user.click(screen.getByRole('button', { name: 'Reset' }));
    expect(last().secureJsonFields).toEqual({ apiKey: false });
    expect(last().secureJsonData).toEqual({ apiKey: '' });
    expect(screen.getByPlaceholderText(/API key/)).toBeEnabled();
  });
});
