// The request bodies logship sends, as the official clients type them.
// Elasticsearch: @elastic/elasticsearch (generated from elastic/elasticsearch-specification).
// OpenSearch: @opensearch-project/opensearch (generated from opensearch-project/opensearch-api-specification).
// Deep imports of the types-only files: no Node typings needed, and tsc reads only the type files (about 150k lines with the 8.19 ones) instead of the whole clients.
import type * as es from '@elastic/elasticsearch/lib/api/types';
// @elastic/elasticsearch@8.19.2 (npm alias elasticsearch8) exports only its root; tsconfig paths maps this name to its lib/api/types.d.ts
import type * as es8 from 'elasticsearch8-types';
import type * as OsIndexTemplate from '@opensearch-project/opensearch/api/indices/putIndexTemplate.js';
import type * as OsPutSettings from '@opensearch-project/opensearch/api/indices/putSettings.js';
import type * as OsIngestGet from '@opensearch-project/opensearch/api/ingest/getPipeline.js';
import type * as OsBulk from '@opensearch-project/opensearch/api/_types/_core.bulk.js';
import type * as OsIndices from '@opensearch-project/opensearch/api/_types/indices._common.js';
import type * as OsMapping from '@opensearch-project/opensearch/api/_types/_common.mapping.js';
import type * as OsIsm from '@opensearch-project/opensearch/api/_types/ism._common.js';

// Elasticsearch 9's request types mix path, query and body fields (and a `body`/`querystring` escape hatch):
// keep the body fields only.
type EsParams = keyof es.RequestBase | 'body' | 'querystring';
export type EsIndexTemplateBody = Omit<es.IndicesPutIndexTemplateRequest,
  EsParams | 'name' | 'create' | 'master_timeout' | 'cause'>;
export type EsIlmPolicyBody = Omit<es.IlmPutLifecycleRequest, EsParams | 'name' | 'master_timeout' | 'timeout'>;
export type EsPutSettingsBody = es.IndicesIndexSettings;            // PUT <index>/_settings: the body is the settings
export type EsIngestPipelines = es.IngestGetPipelineResponse;        // GET _ingest/pipeline/<id>
export type EsBulkAction = es.BulkOperationContainer;                // one action line of _bulk
export type EsMappings = es.MappingTypeMapping;
export type EsProperty = es.MappingProperty;

// The same bodies as Elasticsearch 8.19's client types them: a body must fit both majors.
type Es8Params = keyof es8.RequestBase | 'body' | 'querystring';
export type Es8IndexTemplateBody = Omit<es8.IndicesPutIndexTemplateRequest,
  Es8Params | 'name' | 'create' | 'master_timeout' | 'cause'>;
export type Es8IlmPolicyBody = Omit<es8.IlmPutLifecycleRequest, Es8Params | 'name' | 'master_timeout' | 'timeout'>;
export type Es8BulkAction = es8.BulkOperationContainer;

export type OsIndexTemplateBody = OsIndexTemplate.Indices_PutIndexTemplate_RequestBody;
export type OsIsmPolicyBody = OsIsm.PutPolicyRequest;                // PUT _plugins/_ism/policies/<id>
export type OsIsmAddBody = OsIsm.AddPolicyRequest;                   // POST _plugins/_ism/add/<index>
export type OsIsmChangeBody = OsIsm.ChangePolicyRequest;             // POST _plugins/_ism/change_policy/<index>
export type OsPutSettingsBody = OsPutSettings.Indices_PutSettings_Request['body'];  // = Indices_Common.IndexSettings
export type OsIngestPipelines = OsIngestGet.Ingest_GetPipeline_ResponseBody;
export type OsBulkAction = OsBulk.OperationContainer;
export type OsMappings = OsMapping.TypeMapping;
export type OsProperty = OsMapping.Property;

// Both settings types end in an index signature ([key: string]: any), so any unknown or dotted key passes.
// Strict<T> drops index signatures all the way down: the settings, written nested
// ({"index": {"mapping": {"total_fields": {"limit": 2000}}}}), then accept only the keys the spec names.
type Strict<T> =
  T extends readonly (infer U)[] ? Strict<U>[] :
  T extends object ? { [K in keyof T as string extends K ? never : number extends K ? never : K]: Strict<T[K]> } :
  T;
export type EsStrictSettings = Strict<es.IndicesIndexSettings>;
export type OsStrictSettings = Strict<OsIndices.IndexSettings>;
