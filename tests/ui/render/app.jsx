// Test-only page: renders one Dashboard Studio definition (window.__DEFINITION__) with Splunk's
// published renderer, no Splunk server. Every data source must be a ds.test source.
import React from 'react';
import { createRoot } from 'react-dom/client';
import DashboardCore from '@splunk/dashboard-core';
import { DashboardContextProvider } from '@splunk/dashboard-context';
import EnterpriseViewOnlyPreset from '@splunk/dashboard-presets/EnterpriseViewOnlyPreset';
import { SplunkThemeProvider } from '@splunk/themes';

window.__validationErrors = [];

function Page({ definition }) {
    return (
        <SplunkThemeProvider family="enterprise" colorScheme="light" density="comfortable">
            <DashboardContextProvider preset={EnterpriseViewOnlyPreset} initialDefinition={definition}>
                <DashboardCore
                    width="100%"
                    height="auto"
                    onValidationError={(errors) => {
                        window.__validationErrors.push(JSON.stringify(errors));
                    }}
                />
            </DashboardContextProvider>
        </SplunkThemeProvider>
    );
}

createRoot(document.getElementById('root')).render(<Page definition={window.__DEFINITION__} />);
window.__rendered = true;
