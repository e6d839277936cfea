export { ftpUpload, sftpUpload } from './upload.ts';
