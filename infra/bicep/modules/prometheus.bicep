// Azure Monitor managed Prometheus for the cluster, its alerts, and Azure Managed Grafana on top.
// The cluster's metrics add-on (aks.bicep: azureMonitorProfile) sends to an Azure Monitor workspace through a data
// collection rule associated with the cluster; it scrapes the pods the charts' PodMonitors select
// (monitoring.podMonitor.enabled) and kube-state-metrics. The alert and recording rules are monitoring/rules, as
// rule groups: prometheus-rule-groups.json is generated from those files (tests/deploy/monitoring.test.ts fails when
// it is stale); every alert notifies the action group. Grafana reads the workspace; the dashboards in
// monitoring/dashboards are imported into it (docs/operations.md).

@description('Azure Monitor workspace name.')
param workspaceName string

@description('Azure Managed Grafana name (2-23 characters).')
param grafanaName string

@description('Create Azure Managed Grafana (Standard) on the workspace.')
param grafanaEnabled bool

@description('Action group name.')
param actionGroupName string

@description('Region.')
param location string

@description('Tags.')
param tags object

@description('Name of the AKS cluster (existing, aks.bicep) whose metrics are collected and whose rules are evaluated.')
param clusterName string

@description('E-mail addresses the alerts go to; empty = an action group without receivers (add them in the portal, or a webhook for a pager).')
param alertEmailAddresses array

@description('Object id granted Grafana Admin on Grafana (imports the dashboards); empty = nobody.')
param grafanaAdminPrincipalId string

@description('Type of grafanaAdminPrincipalId.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param grafanaAdminPrincipalType string

@description('How often the rule groups are evaluated (ISO 8601, 1 to 15 minutes).')
param ruleEvaluationInterval string = 'PT1M'

var monitoringDataReaderRoleId = 'b0d8363b-8ddd-447d-831f-62ca05bff136'
var grafanaAdminRoleId = '22926164-76b3-42b3-bc55-97df8dab3e41'
// Generated from monitoring/rules/*.yaml: [{name, rules: [{alert|record, expression, for?, severity?, labels, annotations}]}].
var ruleGroups = loadJsonContent('prometheus-rule-groups.json')

resource cluster 'Microsoft.ContainerService/managedClusters@2025-05-01' existing = {
  name: clusterName
}

resource workspace 'Microsoft.Monitor/accounts@2023-04-03' = {
  name: workspaceName
  location: location
  tags: tags
}

resource collectionEndpoint 'Microsoft.Insights/dataCollectionEndpoints@2022-06-01' = {
  name: 'MSProm-${location}-${clusterName}'
  location: location
  tags: tags
  kind: 'Linux'
  properties: {}
}

resource collectionRule 'Microsoft.Insights/dataCollectionRules@2022-06-01' = {
  name: 'MSProm-${location}-${clusterName}'
  location: location
  tags: tags
  kind: 'Linux'
  properties: {
    dataCollectionEndpointId: collectionEndpoint.id
    dataSources: {
      prometheusForwarder: [
        {
          name: 'PrometheusDataSource'
          streams: [
            'Microsoft-PrometheusMetrics'
          ]
          labelIncludeFilter: {}
        }
      ]
    }
    destinations: {
      monitoringAccounts: [
        {
          accountResourceId: workspace.id
          name: 'MonitoringAccount1'
        }
      ]
    }
    dataFlows: [
      {
        streams: [
          'Microsoft-PrometheusMetrics'
        ]
        destinations: [
          'MonitoringAccount1'
        ]
      }
    ]
  }
}

resource collectionRuleAssociation 'Microsoft.Insights/dataCollectionRuleAssociations@2022-06-01' = {
  name: 'MSProm-${location}-${clusterName}'
  scope: cluster
  properties: {
    dataCollectionRuleId: collectionRule.id
    description: 'Prometheus metrics of the cluster to the Azure Monitor workspace.'
  }
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: actionGroupName
  location: 'Global'
  tags: tags
  properties: {
    groupShortName: take(actionGroupName, 12)
    enabled: true
    emailReceivers: [
      for (address, i) in alertEmailAddresses: {
        name: 'email-${i}'
        emailAddress: address
        useCommonAlertSchema: true
      }
    ]
  }
}

// One Azure rule group per group of the files; every alert notifies the action group and resolves on its own.
resource prometheusRuleGroups 'Microsoft.AlertsManagement/prometheusRuleGroups@2023-03-01' = [
  for group in ruleGroups: {
    name: '${group.name}-${clusterName}'
    location: location
    tags: tags
    properties: {
      description: 'monitoring/rules: ${group.name}'
      scopes: [
        workspace.id
        cluster.id
      ]
      clusterName: clusterName
      enabled: true
      interval: ruleEvaluationInterval
      rules: map(group.rules, rule => contains(rule, 'alert') ? union(rule, {
        actions: [
          {
            actionGroupId: actionGroup.id
          }
        ]
        resolveConfiguration: {
          autoResolved: true
          timeToResolve: 'PT5M'
        }
      }) : rule)
    }
  }
]

resource grafana 'Microsoft.Dashboard/grafana@2023-09-01' = if (grafanaEnabled) {
  name: grafanaName
  location: location
  tags: tags
  sku: {
    name: 'Standard'
  }
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    grafanaIntegrations: {
      azureMonitorWorkspaceIntegrations: [
        {
          azureMonitorWorkspaceResourceId: workspace.id
        }
      ]
    }
    publicNetworkAccess: 'Enabled'
  }
}

// Grafana queries the workspace as itself.
resource grafanaReadsMetrics 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (grafanaEnabled) {
  name: guid(workspace.id, grafanaName, monitoringDataReaderRoleId)
  scope: workspace
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringDataReaderRoleId)
    principalId: grafana.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource grafanaAdmin 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (grafanaEnabled && !empty(grafanaAdminPrincipalId)) {
  name: guid(grafana.id, grafanaAdminPrincipalId, grafanaAdminRoleId)
  scope: grafana
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', grafanaAdminRoleId)
    principalId: grafanaAdminPrincipalId
    principalType: grafanaAdminPrincipalType
  }
}

output workspaceId string = workspace.id
output workspaceName string = workspace.name
output prometheusQueryEndpoint string = workspace.properties.metrics.prometheusQueryEndpoint
output actionGroupId string = actionGroup.id
output ruleGroupNames array = [for (group, i) in ruleGroups: prometheusRuleGroups[i].name]
output grafanaName string = grafanaEnabled ? grafana.name : ''
output grafanaEndpoint string = grafanaEnabled ? grafana.properties.endpoint : ''
