/**
 * The GraphQL documents the connector sends (the ask mutation exactly as documented, the status query
 * with the paged `downloadLinks` connection) and zod schemas of every response it reads: the OAuth token
 * and error bodies and the GraphQL envelope and payloads.
 */
import { z } from 'zod';
import { PartnerReportStatus } from './enums';

export const ASK_REPORT_MUTATION = `mutation ($input: AskPartnerReportFileInput!) {
  askPartnerReportFile(input: $input) {
    reportFile {
      reportToken
    }
  }
}`;

export const REPORT_STATUS_QUERY = `query ($reportToken: String!, $first: Int, $page: Int) {
  partner {
    reportFile(reportToken: $reportToken) {
      status
      downloadLinks(first: $first, page: $page) {
        edges {
          node {
            link
          }
        }
        pageInfo {
          hasNextPage
          nextPage
        }
      }
    }
  }
}`;

export const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.coerce.number().positive(),
  refresh_token: z.string().min(1).optional(),
  scope: z.string().optional(),
});
export type TokenResponse = z.infer<typeof tokenResponseSchema>;

export const oauthErrorSchema = z.object({
  error: z.string(),
  error_description: z.string().optional(),
});

export const graphqlErrorSchema = z.object({
  message: z.string(),
  path: z.array(z.union([z.string(), z.number()])).optional(),
  extensions: z.object({ code: z.string().optional() }).loose().optional(),
});
export type GraphqlError = z.infer<typeof graphqlErrorSchema>;

export const graphqlEnvelopeSchema = z.object({
  data: z.record(z.string(), z.unknown()).nullable().optional(),
  errors: z.array(graphqlErrorSchema).optional(),
});

export const askPayloadSchema = z.object({
  askPartnerReportFile: z.object({
    reportFile: z.object({ reportToken: z.string().min(1) }),
  }),
});

export const reportFileSchema = z.object({
  status: PartnerReportStatus,
  downloadLinks: z
    .object({
      edges: z.array(z.object({ node: z.object({ link: z.string().nullable() }).nullable() }).nullable()),
      pageInfo: z.object({ hasNextPage: z.boolean(), nextPage: z.number().int().nullable().optional() }).optional(),
    })
    .nullable()
    .optional(),
});
export type ReportFilePayload = z.infer<typeof reportFileSchema>;

export const statusPayloadSchema = z.object({
  partner: z.object({ reportFile: reportFileSchema.nullable() }).nullable(),
});
