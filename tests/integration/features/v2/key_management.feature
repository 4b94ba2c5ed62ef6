# from DataDog/datadog-api-client-python tests/v2/features/key_management.feature 3d797b9e40fbe3831025c5f1e25f02f33fa73411
@endpoint(key-management) @endpoint(key-management-v2)
Feature: Key Management
  Manage your Datadog API and application keys. You need an API key and an
  application key for a user with the required permissions to interact with
  these endpoints.  Consult the following pages to view and manage your
  keys:  - [API Keys](https://app.datadoghq.com/organization-settings/api-
  keys) - [Application Keys](https://app.datadoghq.com/personal-
  settings/application-keys)

  Background:
    Given a valid "apiKeyAuth" key in the system
    And an instance of "KeyManagement" API

  @generated @skip @team:DataDog/credentials-management
  Scenario: Create a personal access token returns "Bad Request" response
    Given a valid "appKeyAuth" key in the system
    And new "CreatePersonalAccessToken" request
    And body with value {"data": {"attributes": {"expires_at": "2025-12-31T23:59:59+00:00", "name": "My Personal Access Token", "scopes": ["dashboards_read", "dashboards_write"]}, "type": "personal_access_tokens"}}
    When the request is sent
    Then the response status is 400 Bad Request

  @team:DataDog/credentials-management
  Scenario: Create a personal access token returns "Created" response
    Given a valid "appKeyAuth" key in the system
    And new "CreatePersonalAccessToken" request
    And body with value {"data": {"type": "personal_access_tokens", "attributes": {"name": "{{ unique }}", "scopes": ["dashboards_read"], "expires_at": "{{ timeISO('now+365d') }}"}}}
    When the request is sent
    Then the response status is 201 Created
    And the response "data.type" is equal to "personal_access_tokens"
    And the response "data.attributes.name" is equal to "{{ unique }}"
    And the response "data.attributes.scopes" is equal to ["dashboards_read"]
    And the response "data.attributes" has field "key"

  @generated @skip @team:DataDog/credentials-management
  Scenario: Create an API key returns "Bad Request" response
    Given a valid "appKeyAuth" key in the system
    And new "CreateAPIKey" request
    And body with value {"data": {"attributes": {"name": "API Key for submitting metrics"}, "type": "api_keys"}}
    When the request is sent
    Then the response status is 400 Bad Request

  @team:DataDog/credentials-management
  Scenario: Create an API key returns "Created" response
    Given a valid "appKeyAuth" key in the system
    And new "CreateAPIKey" request
    And body with value {"data": {"type": "api_keys", "attributes": {"name": "{{ unique }}"}}}
    When the request is sent
    Then the response status is 201 Created
    And the response "data.type" is equal to "api_keys"
    And the response "data.attributes.name" is equal to "{{ unique }}"

  @team:DataDog/credentials-management
  Scenario: Create an Application key with scopes for current user returns "Created" response
    Given a valid "appKeyAuth" key in the system
    And new "CreateCurrentUserApplicationKey" request
    And body with value {"data": {"type": "application_keys", "attributes": {"name": "{{ unique }}", "scopes": ["dashboards_read", "dashboards_write", "dashboards_public_share"]}}}
    When the request is sent
    Then the response status is 201 Created
    And the response "data.attributes.name" is equal to "{{ unique }}"
    And the response "data.attributes.scopes" is equal to ["dashboards_read", "dashboards_write", "dashboards_public_share"]

  @generated @skip @team:DataDog/credentials-management
  Scenario: Create an application key for current user returns "Bad Request" response
    Given a valid "appKeyAuth" key in the system
    And new "CreateCurrentUserApplicationKey" request
    And body with value {"data": {"attributes": {"name": "Application Key for managing dashboards", "scopes": ["dashboards_read", "dashboards_write", "dashboards_public_share"]}, "type": "application_keys"}}
    When the request is sent
    Then the response status is 400 Bad Request

  @team:DataDog/credentials-management
  Scenario: Create an application key for current user returns "Created" response
    Given a valid "appKeyAuth" key in the system
    And new "CreateCurrentUserApplicationKey" request
    And body with value {"data": {"type": "application_keys", "attributes": {"name": "{{ unique }}"}}}
    When the request is sent
    Then the response status is 201 Created
    And the response "data.type" is equal to "application_keys"
    And the response "data.attributes.name" is equal to "{{ unique }}"

  @team:DataDog/credentials-management
  Scenario: Delete an API key returns "No Content" response
    Given a valid "appKeyAuth" key in the system
    And there is a valid "api_key" in the system
    And new "DeleteAPIKey" request
    And request contains "api_key_id" parameter from "api_key.data.id"
    When the request is sent
    Then the response status is 204 No Content

  @generated @skip @team:DataDog/credentials-management
  Scenario: Delete an API key returns "Not Found" response
    Given a valid "appKeyAuth" key in the system
    And new "DeleteAPIKey" request
    And request contains "api_key_id" parameter from "REPLACE.ME"
    When the request is sent
    Then the response status is 404 Not Found

  @team:DataDog/credentials-management
  Scenario: Delete an application key owned by current user returns "No Content" response
    Given a valid "appKeyAuth" key in the system
    And there is a valid "application_key" in the system
    And new "DeleteCurrentUserApplicationKey" request
    And request contains "app_key_id" parameter from "application_key.data.id"
    When the request is sent
    Then the response status is 204 No Content

  @generated @skip @team:DataDog/credentials-management
  Scenario: Delete an application key owned by current user returns "Not Found" response
    Given a valid "appKeyAuth" key in the system
    And new "DeleteCurrentUserApplicationKey" request
    And request contains "app_key_id" parameter from "REPLACE.ME"
    When the request is sent
    Then the response status is 404 Not Found

  @team:DataDog/credentials-management
  Scenario: Delete an application key returns "No Content" response
    Given a valid "appKeyAuth" key in the system
    And there is a valid "application_key" in the system
    And new "DeleteApplicationKey" request
    And request contains "app_key_id" parameter from "application_key.data.id"
    When the request is sent
    Then the response status is 204 No Content

  @generated @skip @team:DataDog/credentials-management
  Scenario: Delete an application key returns "Not Found" response
    Given a valid "appKeyAuth" key in the system
    And new "DeleteApplicationKey" request
    And request contains "app_key_id" parameter from "REPLACE.ME"
    When the request is sent
    Then the response status is 404 Not Found

  @generated @skip @team:DataDog/credentials-management
  Scenario: Edit an API key returns "Bad Request" response
    Given a valid "appKeyAuth" key in the system
    And new "UpdateAPIKey" request
    And request contains "api_key_id" parameter from "REPLACE.ME"
    And body with value {"data": {"attributes": {"name": "API Key for submitting metrics"}, "id": "00112233-4455-6677-8899-aabbccddeeff", "type": "api_keys"}}
    When the request is sent
    Then the response status is 400 Bad Request

  @generated @skip @team:DataDog/credentials-management
  Scenario: Edit an API key returns "Not Found" response
    Given a valid "appKeyAuth" key in the system
    And new "UpdateAPIKey" request
    And request contains "api_key_id" parameter from "REPLACE.ME"
    And body with value {"data": {"attributes": {"name": "API Key for submitting metrics"}, "id": "00112233-4455-6677-8899-aabbccddeeff", "type": "api_keys"}}
    When the request is sent
    Then the response status is 404 Not Found

  @team:DataDog/credentials-management
  Scenario: Edit an API key returns "OK" response
    Given a valid "appKeyAuth" key in the system
    And there is a valid "api_key" in the system
    And new "UpdateAPIKey" request
    And request contains "api_key_id" parameter from "api_key.data.id"
    And body with value {"data": {"type": "api_keys", "id": "{{ api_key.data.id }}", "attributes": {"name": "{{ unique }}"}}}
    When the request is sent
    Then the response status is 200 OK
    And the response "data.type" is equal to "api_keys"
    And the response "data.id" is equal to "{{ api_key.data.id }}"
    And the response "data.attributes.name" is equal to "{{ unique }}"

  @generated @skip @team:DataDog/credentials-management
  Scenario: Edit an application key owned by current user returns "Bad Request" response
    Given a valid "appKeyAuth" key in the system
    And new "UpdateCurrentUserApplicationKey" request
    And request contains "app_key_id" parameter from "REPLACE.ME"
    And body with value {"data": {"attributes": {"name": "Application Key for managing dashboards", "scopes": ["dashboards_read", "dashboards_write", "dashboards_public_share"]}, "id": "00112233-4455-6677-8899-aabbccddeeff", "type": "application_keys"}}
    When the request is sent
    Then the response status is 400 Bad Request

  @generated @skip @team:DataDog/credentials-management
  Scenario: Edit an application key owned by current user returns "Not Found" response
    Given a valid "appKeyAuth" key in the system
    And new "UpdateCurrentUserApplicationKey" request
    And request contains "app_key_id" parameter from "REPLACE.ME"
    And body with value {"data": {"attributes": {"name": "Application Key for managing dashboards", "scopes": ["dashboards_read", "dashboards_write", "dashboards_public_share"]}, "id": "00112233-4455-6677-8899-aabbccddeeff", "type": "application_keys"}}
    When the request is sent
    Then the response status is 404 Not Found

  @team:DataDog/credentials-management
  Scenario: Edit an application key owned by current user returns "OK" response
    Given a valid "appKeyAuth" key in the system
    And there is a valid "application_key" in the system
    And new "UpdateCurrentUserApplicationKey" request
    And request contains "app_key_id" parameter from "application_key.data.id"
    And body with value {"data": {"id": "{{ application_key.data.id }}", "type": "application_keys", "attributes": {"name" : "{{ application_key.data.attributes.name }}-updated"}}}
    When the request is sent
    Then the response status is 200 OK
    And the response "data.type" is equal to "application_keys"
    And the response "data.id" is equal to "{{ application_key.data.id }}"
    And the response "data.attributes.name" is equal to "{{ application_key.data.attributes.name }}-updated"

  @generated @skip @team:DataDog/credentials-management
  Scenario: Edit an application key returns "Bad Request" response
    Given a valid "appKeyAuth" key in the system
    And new "UpdateApplicationKey" request
    And request contains "app_key_id" parameter from "REPLACE.ME"
    And body with value {"data": {"attributes": {"name": "Application Key for managing dashboards", "scopes": ["dashboards_read", "dashboards_write", "dashboards_public_share"]}, "id": "00112233-4455-6677-8899-aabbccddeeff", "type": "application_keys"}}
    When the request is sent
    Then the response status is 400 Bad Request

  @generated @skip @team:DataDog/credentials-management
  Scenario: Edit an application key returns "Not Found" response
    Given a valid "appKeyAuth" key in the system
    And new "UpdateApplicationKey" request
    And request contains "app_key_id" parameter from "REPLACE.ME"
    And body with value {"data": {"attributes": {"name": "Application Key for managing dashboards", "scopes": ["dashboards_read", "dashboards_write", "dashboards_public_share"]}, "id": "00112233-4455-6677-8899-aabbccddeeff", "type": "application_keys"}}
    When the request is sent
    Then the response status is 404 Not Found

  @team:DataDog/credentials-management
  Scenario: Edit an application key returns "OK" response
    Given a valid "appKeyAuth" key in the system
    And there is a valid "application_key" in the system
    And new "UpdateApplicationKey" request
    And request contains "app_key_id" parameter from "application_key.data.id"
    And body with value {"data": {"id": "{{ application_key.data.id }}", "type": "application_keys", "attributes": {"name" : "{{ application_key.data.attributes.name }}-updated"}}}
    When the request is sent
    Then the response status is 200 OK
    And the response "data.type" is equal to "application_keys"
    And the response "data.id" is equal to "{{ application_key.data.id }}"
    And the response "data.attributes.name" is equal to "{{ application_key.data.attributes.name }}-updated"

  @team:DataDog/credentials-management
  Scenario: Get API key returns "Not Found" response
    Given a valid "appKeyAuth" key in the system
    And new "GetAPIKey" request
    And request contains "api_key_id" parameter with value "invalidId"
    When the request is sent
    Then the response status is 404 Not Found

  @team:DataDog/credentials-management
  Scenario: Get API key returns "OK" response
    Given a valid "appKeyAuth" key in the system
    And there is a valid "api_key" in the system
    And new "GetAPIKey" request
    And request contains "api_key_id" parameter from "api_key.data.id"
    When the request is sent
    Then the response status is 200 OK
    And the response "data.type" is equal to "api_keys"
    And the response "data.id" is equal to "{{ api_key.data.id }}"
    And the response "data.attributes" has field "date_last_used"

  @generated @skip @team:DataDog/credentials-management
  Scenario: Get a personal access token returns "Not Found" response
    Given a valid "appKeyAuth" key in the system
    And new "GetPersonalAccessToken" request
    And request contains "pat_id" parameter from "REPLACE.ME"
    When the request is sent
    Then the response status is 404 Not Found

  @team:DataDog/credentials-management
  Scenario: Get a personal access token returns "OK" response
    Given a valid "appKeyAuth" key in the system
    And there is a valid "personal_access_token" in the system
    And new "GetPersonalAccessToken" request
    And request contains "pat_id" parameter from "personal_access_token.data.id"
    When the request is sent
    Then the response status is 200 OK
    And the response "data.type" is equal to "personal_access_tokens"
    And the response "data.id" has the same value as "personal_access_token.data.id"

  @generated @skip @team:DataDog/credentials-management
  Scenario: Get all API keys returns "Bad Request" response
    Given a valid "appKeyAuth" key in the system
    And new "ListAPIKeys" request
    When the request is sent
    Then the response status is 400 Bad Request

  @team:DataDog/credentials-management
  Scenario: Get all API keys returns "OK" response
    Given a valid "appKeyAuth" key in the system
    And there is a valid "api_key" in the system
    And new "ListAPIKeys" request
    And request contains "filter" parameter from "api_key.data.attributes.name"
    When the request is sent
    Then the response status is 200 OK
    And the response "data[0].type" is equal to "api_keys"
    And the response "data[0].attributes" has field "date_last_used"

  @generated @skip @team:DataDog/credentials-management
  Scenario: Get all application keys owned by current user returns "Bad Request" response
    Given a valid "appKeyAuth" key in the system
    And new "ListCurrentUserApplicationKeys" request
    When the request is sent
    Then the response status is 400 Bad Request

  @generated @skip @team:DataDog/credentials-management
  Scenario: Get all application keys owned by current user returns "Not Found" response
    Given a valid "appKeyAuth" key in the system
    And new "ListCurrentUserApplicationKeys" request
    When the request is sent
    Then the response status is 404 Not Found

  @team:DataDog/credentials-management
  Scenario: Get all application keys owned by current user returns "OK" response
    Given a valid "appKeyAuth" key in the system
    And new "ListCurrentUserApplicationKeys" request
    When the request is sent
    Then the response status is 200 OK
    And the response "data[0].type" is equal to "application_keys"
    And the response "data[0].attributes" has field "last_used_at"

  @generated @skip @team:DataDog/credentials-management
  Scenario: Get all application keys returns "Bad Request" response
    Given a valid "appKeyAuth" key in the system
    And new "ListApplicationKeys" request
    When the request is sent
    Then the response status is 400 Bad Request

  @generated @skip @team:DataDog/credentials-management
  Scenario: Get all application keys returns "Not Found" response
    Given a valid "appKeyAuth" key in the system
    And new "ListApplicationKeys" request
    When the request is sent
    Then the response status is 404 Not Found

  @team:DataDog/credentials-management
  Scenario: Get all application keys returns "OK" response
    Given a valid "appKeyAuth" key in the system
    And there is a valid "application_key" in the system
    And new "ListApplicationKeys" request
    When the request is sent
    Then the response status is 200 OK
    And the response "data[0].type" is equal to "application_keys"
    And the response "data[0].attributes" has field "last_used_at"

  @generated @skip @team:DataDog/credentials-management
  Scenario: Get all personal access tokens returns "Bad Request" response
    Given a valid "appKeyAuth" key in the system
    And new "ListPersonalAccessTokens" request
    When the request is sent
    Then the response status is 400 Bad Request

  @team:DataDog/credentials-management
  Scenario: Get all personal access tokens returns "OK" response
    Given a valid "appKeyAuth" key in the system
    And there is a valid "personal_access_token" in the system
    And new "ListPersonalAccessTokens" request
    When the request is sent
    Then the response status is 200 OK
    And the response "data" has item with field "type" with value "personal_access_tokens"

  @generated @skip @team:DataDog/credentials-management
  Scenario: Get an application key returns "Bad Request" response
    Given a valid "appKeyAuth" key in the system
    And new "GetApplicationKey" request
    And request contains "app_key_id" parameter from "REPLACE.ME"
    When the request is sent
    Then the response status is 400 Bad Request

  @team:DataDog/credentials-management
  Scenario: Get an application key returns "Not Found" response
    Given a valid "appKeyAuth" key in the system
    And new "GetApplicationKey" request
    And request contains "app_key_id" parameter with value "invalidId"
    When the request is sent
    Then the response status is 404 Not Found

  @team:DataDog/credentials-management
  Scenario: Get an application key returns "OK" response
    Given a valid "appKeyAuth" key in the system
    And there is a valid "application_key" in the system
    And new "GetApplicationKey" request
    And request contains "app_key_id" parameter from "application_key.data.id"
    When the request is sent
    Then the response status is 200 OK
    And the response "data.type" is equal to "application_keys"
    And the response "data.id" has the same value as "application_key.data.id"
    And the response "data.attributes" has field "last_used_at"

  @team:DataDog/credentials-management
  Scenario: Get one application key owned by current user returns "Not Found" response
    Given a valid "appKeyAuth" key in the system
    And new "GetCurrentUserApplicationKey" request
    And request contains "app_key_id" parameter with value "incorrectId"
    When the request is sent
    Then the response status is 404 Not Found

  @team:DataDog/credentials-management
  Scenario: Get one application key owned by current user returns "OK" response
    Given a valid "appKeyAuth" key in the system
    And there is a valid "application_key" in the system
    And new "GetCurrentUserApplicationKey" request
    And request contains "app_key_id" parameter from "application_key.data.id"
    When the request is sent
    Then the response status is 200 OK
    And the response "data.type" is equal to "application_keys"
    And the response "data.id" is equal to "{{ application_key.data.id }}"
    And the response "data.attributes.name" is equal to "{{ application_key.data.attributes.name }}"
    And the response "data.attributes" has field "scopes"
    And the response "data.attributes" has field "last_used_at"

  @team:DataDog/credentials-management
  Scenario: Revoke a personal access token returns "No Content" response
    Given a valid "appKeyAuth" key in the system
    And there is a valid "personal_access_token" in the system
    And new "RevokePersonalAccessToken" request
    And request contains "pat_id" parameter from "personal_access_token.data.id"
    When the request is sent
    Then the response status is 204 No Content

  @generated @skip @team:DataDog/credentials-management
  Scenario: Revoke a personal access token returns "Not Found" response
    Given a valid "appKeyAuth" key in the system
    And new "RevokePersonalAccessToken" request
    And request contains "pat_id" parameter from "REPLACE.ME"
    When the request is sent
    Then the response status is 404 Not Found

  @generated @skip @team:DataDog/credentials-management
  Scenario: Update a personal access token returns "Bad Request" response
    Given a valid "appKeyAuth" key in the system
    And new "UpdatePersonalAccessToken" request
    And request contains "pat_id" parameter from "REPLACE.ME"
    And body with value {"data": {"attributes": {"name": "Updated Personal Access Token", "scopes": ["dashboards_read", "dashboards_write"]}, "id": "00112233-4455-6677-8899-aabbccddeeff", "type": "personal_access_tokens"}}
    When the request is sent
    Then the response status is 400 Bad Request

  @generated @skip @team:DataDog/credentials-management
  Scenario: Update a personal access token returns "Not Found" response
    Given a valid "appKeyAuth" key in the system
    And new "UpdatePersonalAccessToken" request
    And request contains "pat_id" parameter from "REPLACE.ME"
    And body with value {"data": {"attributes": {"name": "Updated Personal Access Token", "scopes": ["dashboards_read", "dashboards_write"]}, "id": "00112233-4455-6677-8899-aabbccddeeff", "type": "personal_access_tokens"}}
    When the request is sent
    Then the response status is 404 Not Found

  @team:DataDog/credentials-management
  Scenario: Update a personal access token returns "OK" response
    Given a valid "appKeyAuth" key in the system
    And there is a valid "personal_access_token" in the system
    And new "UpdatePersonalAccessToken" request
    And request contains "pat_id" parameter from "personal_access_token.data.id"
    And body with value {"data": {"type": "personal_access_tokens", "id": "{{ personal_access_token.data.id }}", "attributes": {"name": "{{ unique }}-updated"}}}
    When the request is sent
    Then the response status is 200 OK
    And the response "data.attributes.name" is equal to "{{ unique }}-updated"

  @generated @skip @team:DataDog/identity-platform
  Scenario: Validate API key returns "OK" response
    Given operation "ValidateV2" enabled
    And new "ValidateV2" request
    When the request is sent
    Then the response status is 200 OK
