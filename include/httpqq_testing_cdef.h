typedef struct httpqq_server httpqq_server;

int32_t httpqq_server_start(const char *listen,
                            const char *accounts_path,
                            httpqq_server **server_out,
                            httpqq_error *error);

int32_t httpqq_server_start_tls(const char *listen,
                                const char *accounts_path,
                                httpqq_server **server_out,
                                httpqq_error *error);

const char *httpqq_server_endpoint(const httpqq_server *server);

const char *httpqq_server_tls_endpoint(const httpqq_server *server);

const char *httpqq_server_tls_ca_pem(const httpqq_server *server);

uint16_t httpqq_server_port(const httpqq_server *server);

void httpqq_server_free(httpqq_server *server);

bool httpqq_server_expire_session(const httpqq_server *server,
                                  uint64_t uin);

void httpqq_server_throttle(const httpqq_server *server,
                            uint64_t uin,
                            uint64_t duration_ms);

void httpqq_server_set_latency_ms(const httpqq_server *server,
                                  uint64_t latency_ms);

void httpqq_server_pause(const httpqq_server *server);

void httpqq_server_resume(const httpqq_server *server);

void httpqq_server_stop_listening(const httpqq_server *server);

int32_t httpqq_server_restart(const httpqq_server *server,
                              httpqq_error *error);

bool httpqq_server_change_password(const httpqq_server *server,
                                   uint64_t uin,
                                   const char *password);

void httpqq_server_drop_sessions(const httpqq_server *server,
                                 bool on);

uint64_t httpqq_server_password_checks(const httpqq_server *server);

uint64_t httpqq_server_connections_accepted(const httpqq_server *server);

uint64_t httpqq_server_request_count(const httpqq_server *server,
                                     uint64_t uin,
                                     const char *command,
                                     int64_t res);
