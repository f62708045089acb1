import { Type, type Static } from '@sinclair/typebox';

const File = (what: string) =>
  Type.String({ minLength: 1, description: `${what} (PEM file; a relative path is from the config file)` });

/** Certificate and key of a listener; read at start and again on SIGHUP (certificates get renewed). */
export const TlsServerFilesSchema = Type.Object(
  {
    cert: File('certificate chain, the server certificate first'),
    key: File('private key of the certificate'),
    ca: Type.Optional(File('CA certificates that sign client certificates')),
  },
  { additionalProperties: false },
);
export type TlsServerFiles = Static<typeof TlsServerFilesSchema>;

/** How the bridge checks the town broker and proves itself to it. */
export const TlsClientFilesSchema = Type.Object(
  {
    ca: Type.Optional(File("CA certificates that sign the central broker's certificate")),
    cert: Type.Optional(File('client certificate the bridge presents')),
    key: Type.Optional(File('private key of the client certificate')),
    servername: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'name the certificate must carry (SNI), when it differs from the URL host',
      }),
    ),
  },
  { additionalProperties: false },
);
export type TlsClientFiles = Static<typeof TlsClientFilesSchema>;
