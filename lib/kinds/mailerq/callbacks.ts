/** MailerQ's optional plugin callbacks (5.x docs), with their documented C signatures. */
export interface Callback {
  name: string;
  returns: 'void' | 'bool';
  params: Array<[type: string, name: string]>;
  when: string;
}

const ctx: [string, string] = ['MQ_Context *', 'ctx'];
const conn: [string, string] = ['MQ_Connection *', 'conn'];

export const callbacks: Callback[] = [
  { name: 'mq_initialize', returns: 'void', params: [], when: 'Called once, right after this plugin is loaded (before MailerQ loads the next one).' },
  { name: 'mq_cleanup', returns: 'void', params: [], when: 'Called once, when MailerQ stops.' },
  { name: 'mq_context_initialize', returns: 'void', params: [ctx], when: 'Called in each worker thread when it starts.' },
  { name: 'mq_context_cleanup', returns: 'void', params: [ctx], when: 'Called in each worker thread when it stops.' },
  { name: 'mq_smtp_in_connect', returns: 'bool', params: [ctx, conn], when: 'A client connected.' },
  { name: 'mq_smtp_in_secure', returns: 'bool', params: [ctx, conn], when: 'The connection was secured with STARTTLS.' },
  {
    name: 'mq_smtp_in_authenticate',
    returns: 'bool',
    params: [ctx, conn, ['const char *', 'login'], ['size_t', 'loginsize'], ['const char *', 'passwd'], ['size_t', 'passwdsize']],
    when: 'The client sent AUTH (login and password are not NUL-terminated).',
  },
  { name: 'mq_smtp_in_mailfrom', returns: 'bool', params: [ctx, conn, ['MQ_Address *', 'address']], when: 'The client sent MAIL FROM.' },
  { name: 'mq_smtp_in_rcptto', returns: 'bool', params: [ctx, conn, ['MQ_Address *', 'address']], when: 'The client sent RCPT TO (once per recipient).' },
  { name: 'mq_smtp_in_data', returns: 'bool', params: [ctx, conn, ['const char *', 'mime'], ['size_t', 'size']], when: 'The client sent the message data (not NUL-terminated).' },
  { name: 'mq_smtp_in_message', returns: 'bool', params: [ctx, conn, ['MQ_Message *', 'message']], when: 'A message was accepted (once per recipient).' },
  { name: 'mq_smtp_in_close', returns: 'bool', params: [ctx, conn], when: 'The client connection closes.' },
  { name: 'mq_smtp_out_data', returns: 'bool', params: [ctx, conn, ['MQ_Message *', 'message']], when: 'MailerQ is about to send a message out.' },
  { name: 'mq_smtp_out_sent', returns: 'bool', params: [ctx, conn, ['MQ_Message *', 'message']], when: 'A message was sent out.' },
];
