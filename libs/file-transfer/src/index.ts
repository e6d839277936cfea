export { type FileServerLogin, ftpAccessOptions, sftpConnectOptions } from './connect.ts';
export { ftpUpload, sftpUpload } from './upload.ts';
