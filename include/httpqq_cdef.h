enum {
  HTTPQQ_VERSION_MAJOR = 0,
  HTTPQQ_VERSION_MINOR = 3,
  HTTPQQ_VERSION_PATCH = 0,
};

typedef enum {
  HTTPQQ_STATUS_OK = 0,
  HTTPQQ_STATUS_NO_REPLY = 1,
  HTTPQQ_STATUS_NOT_LOGGED_IN = 2,
  HTTPQQ_STATUS_THROTTLED = 3,
  HTTPQQ_STATUS_INVALID_UIN = 4,
  HTTPQQ_STATUS_LOGIN_FAILED = 5,
  HTTPQQ_STATUS_PROTOCOL = 6,
  HTTPQQ_STATUS_TRANSPORT = 7,
  HTTPQQ_STATUS_TIMEOUT = 8,
  HTTPQQ_STATUS_INVALID_CONFIG = 9,
  HTTPQQ_STATUS_INVALID_ARGUMENT = 10,
  HTTPQQ_STATUS_SERVER = 11,
  HTTPQQ_STATUS_INTERNAL = 12,
  HTTPQQ_STATUS_STOPPED = 13,
  HTTPQQ_STATUS_CANCELLED = 14,
  HTTPQQ_STATUS_NOT_ONLINE = 15,
  HTTPQQ_STATUS_TOO_LARGE = 16,
} httpqq_status;

typedef enum {
  HTTPQQ_REPLY_KIND_LOGIN = 0,
  HTTPQQ_REPLY_KIND_FRIEND_COUNT = 1,
  HTTPQQ_REPLY_KIND_FRIEND_LIST = 2,
  HTTPQQ_REPLY_KIND_ONLINE_COUNT = 3,
  HTTPQQ_REPLY_KIND_ONLINE_FRIENDS = 4,
  HTTPQQ_REPLY_KIND_USER_INFO = 5,
  HTTPQQ_REPLY_KIND_ADD_FRIEND = 6,
  HTTPQQ_REPLY_KIND_MESSAGES = 7,
  HTTPQQ_REPLY_KIND_DONE = 8,
} httpqq_reply_kind;

typedef enum {
  HTTPQQ_ONLINE_STATUS_ONLINE = 10,
  HTTPQQ_ONLINE_STATUS_OFFLINE = 20,
  HTTPQQ_ONLINE_STATUS_BUSY = 30,
  HTTPQQ_ONLINE_STATUS_INVISIBLE = 40,
} httpqq_online_status;

typedef enum {
  HTTPQQ_MESSAGE_KIND_VERIFICATION_REQUEST = 2,
  HTTPQQ_MESSAGE_KIND_APPROVED = 3,
  HTTPQQ_MESSAGE_KIND_REJECTED = 4,
  HTTPQQ_MESSAGE_KIND_TEXT = 9,
  HTTPQQ_MESSAGE_KIND_STATUS_CHANGE = 99,
} httpqq_message_kind;

typedef enum {
  HTTPQQ_INFO_LEVEL_BRIEF = 0,
  HTTPQQ_INFO_LEVEL_NORMAL = 2,
  HTTPQQ_INFO_LEVEL_FULL = 3,
} httpqq_info_level;

typedef enum {
  HTTPQQ_ADD_FRIEND_OUTCOME_ADDED = 0,
  HTTPQQ_ADD_FRIEND_OUTCOME_NEEDS_VERIFICATION = 1,
  HTTPQQ_ADD_FRIEND_OUTCOME_REFUSED = 2,
} httpqq_add_friend_outcome;

typedef enum {
  HTTPQQ_OUTCOME_ACCEPTED = 0,
  HTTPQQ_OUTCOME_REFUSED = 1,
  HTTPQQ_OUTCOME_UNKNOWN = 2,
} httpqq_outcome;

typedef enum {
  HTTPQQ_EVENT_KIND_ONLINE = 1,
  HTTPQQ_EVENT_KIND_RECONNECTING = 2,
  HTTPQQ_EVENT_KIND_THROTTLED = 3,
  HTTPQQ_EVENT_KIND_SESSION_RENEWED = 4,
  HTTPQQ_EVENT_KIND_MESSAGE = 5,
  HTTPQQ_EVENT_KIND_STOPPED = 6,
} httpqq_event_kind;

typedef enum {
  HTTPQQ_AGENT_STATE_CONNECTING = 0,
  HTTPQQ_AGENT_STATE_ONLINE = 1,
  HTTPQQ_AGENT_STATE_RECONNECTING = 2,
  HTTPQQ_AGENT_STATE_THROTTLED = 3,
  HTTPQQ_AGENT_STATE_STOPPED = 4,
} httpqq_agent_state;

typedef struct httpqq_agent httpqq_agent;

typedef struct httpqq_agent_options httpqq_agent_options;

typedef struct httpqq_client httpqq_client;

typedef struct httpqq_client_builder httpqq_client_builder;

typedef struct httpqq_error httpqq_error;

typedef struct httpqq_event httpqq_event;

typedef struct httpqq_friend_list httpqq_friend_list;

typedef struct httpqq_message httpqq_message;

typedef struct httpqq_message_list httpqq_message_list;

typedef struct httpqq_online_friend httpqq_online_friend;

typedef struct httpqq_online_list httpqq_online_list;

typedef struct httpqq_reply httpqq_reply;

typedef struct httpqq_request httpqq_request;

typedef struct httpqq_sent httpqq_sent;

typedef struct httpqq_session httpqq_session;

typedef struct httpqq_user_info httpqq_user_info;

typedef void (*httpqq_ready_callback)(void *user_data);

typedef int32_t (*httpqq_event_callback)(const httpqq_event *event,
                                         void *user_data);

typedef int32_t (*httpqq_message_callback)(const httpqq_message *message,
                                           void *user_data);

const char *httpqq_version(void);

void httpqq_string_free(char *text);

httpqq_agent_options *httpqq_agent_options_new(void);

void httpqq_agent_options_free(httpqq_agent_options *options);

int32_t httpqq_agent_options_set_poll_interval_ms(httpqq_agent_options *options,
                                                  uint64_t milliseconds,
                                                  httpqq_error *error);

int32_t httpqq_agent_options_set_backoff_initial_ms(httpqq_agent_options *options,
                                                    uint64_t milliseconds,
                                                    httpqq_error *error);

int32_t httpqq_agent_options_set_backoff_max_ms(httpqq_agent_options *options,
                                                uint64_t milliseconds,
                                                httpqq_error *error);

int32_t httpqq_agent_options_set_throttle_penalty_ms(httpqq_agent_options *options,
                                                     uint64_t milliseconds,
                                                     httpqq_error *error);

int32_t httpqq_agent_options_set_relogin(httpqq_agent_options *options,
                                         bool on,
                                         httpqq_error *error);

int32_t httpqq_agent_options_set_logout_on_stop(httpqq_agent_options *options,
                                                bool on,
                                                httpqq_error *error);

int32_t httpqq_agent_options_set_stop_timeout_ms(httpqq_agent_options *options,
                                                 uint64_t milliseconds,
                                                 httpqq_error *error);

int32_t httpqq_agent_options_set_send_pace(httpqq_agent_options *options,
                                           uint32_t count,
                                           uint64_t window_ms,
                                           httpqq_error *error);

int32_t httpqq_agent_options_set_throttle_retries(httpqq_agent_options *options,
                                                  uint32_t retries,
                                                  httpqq_error *error);

int32_t httpqq_agent_options_set_inbox(httpqq_agent_options *options,
                                       const char *path,
                                       httpqq_error *error);

int32_t httpqq_agent_options_set_backoff_factor(httpqq_agent_options *options,
                                                double factor,
                                                httpqq_error *error);

int32_t httpqq_agent_options_set_backoff_jitter(httpqq_agent_options *options,
                                                double jitter,
                                                httpqq_error *error);

int32_t httpqq_agent_options_set_event_fd(httpqq_agent_options *options,
                                          int32_t fd,
                                          httpqq_error *error);

int32_t httpqq_agent_options_set_event_callback(httpqq_agent_options *options,
                                                httpqq_ready_callback callback,
                                                void *user_data,
                                                httpqq_error *error);

int32_t httpqq_agent_start(const httpqq_client *client,
                           uint64_t uin,
                           const char *password,
                           const httpqq_agent_options *options,
                           httpqq_agent **agent_out,
                           httpqq_error *error);

void httpqq_agent_free(httpqq_agent *agent);

uint64_t httpqq_agent_uin(const httpqq_agent *agent);

uint32_t httpqq_agent_get_state(const httpqq_agent *agent);

int32_t httpqq_agent_next_event(const httpqq_agent *agent,
                                uint64_t timeout_ms,
                                httpqq_event **event_out,
                                httpqq_error *error);

int32_t httpqq_agent_run(const httpqq_agent *agent,
                         httpqq_event_callback callback,
                         void *user_data,
                         httpqq_error *error);

void httpqq_agent_ack(const httpqq_agent *agent);

uint64_t httpqq_agent_undelivered(const httpqq_agent *agent);

void httpqq_agent_stop(const httpqq_agent *agent);

bool httpqq_agent_wait_stopped(const httpqq_agent *agent,
                               uint64_t timeout_ms);

int32_t httpqq_agent_send(const httpqq_agent *agent,
                          uint64_t target,
                          const char *message,
                          uint32_t *outcome_out,
                          httpqq_error *error);

int32_t httpqq_agent_start_send(const httpqq_agent *agent,
                                uint64_t target,
                                const char *message,
                                uint64_t *send_id_out,
                                httpqq_error *error);

int32_t httpqq_agent_take_sent(const httpqq_agent *agent,
                               httpqq_sent **sent_out,
                               httpqq_error *error);

uint64_t httpqq_sent_id(const httpqq_sent *sent);

int32_t httpqq_sent_status(const httpqq_sent *sent);

uint32_t httpqq_sent_outcome(const httpqq_sent *sent);

const char *httpqq_sent_error_message(const httpqq_sent *sent);

uint64_t httpqq_sent_retry_after_ms(const httpqq_sent *sent);

void httpqq_sent_free(httpqq_sent *sent);

void httpqq_event_free(httpqq_event *event);

uint32_t httpqq_event_get_kind(const httpqq_event *event);

uint64_t httpqq_event_uin(const httpqq_event *event);

const httpqq_message *httpqq_event_message(const httpqq_event *event);

uint32_t httpqq_event_attempt(const httpqq_event *event);

uint64_t httpqq_event_delay_ms(const httpqq_event *event);

uint32_t httpqq_event_outcome(const httpqq_event *event);

int32_t httpqq_event_error_status(const httpqq_event *event);

const char *httpqq_event_error_message(const httpqq_event *event);

const char *httpqq_event_reason(const httpqq_event *event);

httpqq_client_builder *httpqq_client_builder_new(void);

void httpqq_client_builder_free(httpqq_client_builder *builder);

int32_t httpqq_client_builder_set_endpoint(httpqq_client_builder *builder,
                                           const char *endpoint,
                                           httpqq_error *error);

int32_t httpqq_client_builder_set_tls(httpqq_client_builder *builder,
                                      bool on,
                                      httpqq_error *error);

int32_t httpqq_client_builder_set_ca_file(httpqq_client_builder *builder,
                                          const char *path,
                                          httpqq_error *error);

int32_t httpqq_client_builder_set_ca_pem(httpqq_client_builder *builder,
                                         const char *pem,
                                         httpqq_error *error);

int32_t httpqq_client_builder_set_connect_timeout_ms(httpqq_client_builder *builder,
                                                     uint64_t milliseconds,
                                                     httpqq_error *error);

int32_t httpqq_client_builder_set_timeout_ms(httpqq_client_builder *builder,
                                             uint64_t milliseconds,
                                             httpqq_error *error);

int32_t httpqq_client_builder_set_keep_alive(httpqq_client_builder *builder,
                                             bool on,
                                             httpqq_error *error);

int32_t httpqq_client_builder_set_auto_relogin(httpqq_client_builder *builder,
                                               bool on,
                                               httpqq_error *error);

int32_t httpqq_client_builder_set_max_reply_size(httpqq_client_builder *builder,
                                                 uint64_t bytes,
                                                 httpqq_error *error);

int32_t httpqq_client_builder_build(const httpqq_client_builder *builder,
                                    httpqq_client **client_out,
                                    httpqq_error *error);

int32_t httpqq_client_new(const char *endpoint,
                          httpqq_client **client_out,
                          httpqq_error *error);

void httpqq_client_free(httpqq_client *client);

void httpqq_client_shutdown(const httpqq_client *client);

int32_t httpqq_client_login(const httpqq_client *client,
                            uint64_t uin,
                            const char *password,
                            httpqq_session **session_out,
                            httpqq_error *error);

int32_t httpqq_client_login_md5(const httpqq_client *client,
                                uint64_t uin,
                                const char *password_md5_hex,
                                httpqq_session **session_out,
                                httpqq_error *error);

int32_t httpqq_request_login(const char *password,
                             httpqq_request **request_out,
                             httpqq_error *error);

int32_t httpqq_request_login_md5(const char *password_md5_hex,
                                 httpqq_request **request_out,
                                 httpqq_error *error);

int32_t httpqq_request_friend_count(httpqq_request **request_out,
                                    httpqq_error *error);

int32_t httpqq_request_friend_list(uint32_t max,
                                   httpqq_request **request_out,
                                   httpqq_error *error);

int32_t httpqq_request_online_count(httpqq_request **request_out,
                                    httpqq_error *error);

int32_t httpqq_request_online_friends(uint32_t max,
                                      httpqq_request **request_out,
                                      httpqq_error *error);

int32_t httpqq_request_user_info(uint64_t target,
                                 uint32_t level,
                                 httpqq_request **request_out,
                                 httpqq_error *error);

int32_t httpqq_request_add_friend(uint64_t target,
                                  httpqq_request **request_out,
                                  httpqq_error *error);

int32_t httpqq_request_verify(uint64_t target,
                              uint32_t action,
                              const char *reason,
                              httpqq_request **request_out,
                              httpqq_error *error);

int32_t httpqq_request_remove_friend(uint64_t target,
                                     httpqq_request **request_out,
                                     httpqq_error *error);

int32_t httpqq_request_set_status(uint32_t status,
                                  httpqq_request **request_out,
                                  httpqq_error *error);

int32_t httpqq_request_fetch_messages(httpqq_request **request_out,
                                      httpqq_error *error);

int32_t httpqq_request_send_message(uint64_t target,
                                    const char *message,
                                    httpqq_request **request_out,
                                    httpqq_error *error);

int32_t httpqq_request_logout(httpqq_request **request_out,
                              httpqq_error *error);

void httpqq_request_free(httpqq_request *request);

bool httpqq_request_closes_connection(const httpqq_request *request);

int32_t httpqq_request_encode(const httpqq_request *request,
                              uint64_t uin,
                              uint16_t seq,
                              char **body_out,
                              httpqq_error *error);

int32_t httpqq_reply_decode(const httpqq_request *request,
                            uint16_t seq,
                            const uint8_t *body,
                            size_t len,
                            httpqq_reply **reply_out,
                            httpqq_error *error);

void httpqq_reply_free(httpqq_reply *reply);

uint32_t httpqq_reply_get_kind(const httpqq_reply *reply);

int32_t httpqq_reply_login(const httpqq_reply *reply,
                           uint64_t *heartbeat_ms_out,
                           uint64_t *idle_timeout_ms_out,
                           httpqq_error *error);

int32_t httpqq_reply_count(const httpqq_reply *reply,
                           uint32_t *count_out,
                           httpqq_error *error);

int32_t httpqq_reply_add_friend(const httpqq_reply *reply,
                                uint32_t *outcome_out,
                                httpqq_error *error);

int32_t httpqq_reply_friend_list(const httpqq_reply *reply,
                                 const httpqq_friend_list **list_out,
                                 httpqq_error *error);

int32_t httpqq_reply_online_friends(const httpqq_reply *reply,
                                    const httpqq_online_list **list_out,
                                    httpqq_error *error);

int32_t httpqq_reply_user_info(const httpqq_reply *reply,
                               const httpqq_user_info **info_out,
                               httpqq_error *error);

int32_t httpqq_reply_messages(const httpqq_reply *reply,
                              const httpqq_message_list **messages_out,
                              httpqq_error *error);

size_t httpqq_friend_list_len(const httpqq_friend_list *list);

uint64_t httpqq_friend_list_get(const httpqq_friend_list *list,
                                size_t index);

void httpqq_friend_list_free(httpqq_friend_list *list);

size_t httpqq_online_list_len(const httpqq_online_list *list);

const httpqq_online_friend *httpqq_online_list_get(const httpqq_online_list *list,
                                                   size_t index);

void httpqq_online_list_free(httpqq_online_list *list);

uint64_t httpqq_online_friend_uin(const httpqq_online_friend *friend_);

uint32_t httpqq_online_friend_face(const httpqq_online_friend *friend_);

uint32_t httpqq_online_friend_status(const httpqq_online_friend *friend_);

const char *httpqq_online_friend_nickname(const httpqq_online_friend *friend_);

size_t httpqq_message_list_len(const httpqq_message_list *list);

const httpqq_message *httpqq_message_list_get(const httpqq_message_list *list,
                                              size_t index);

void httpqq_message_list_free(httpqq_message_list *list);

uint32_t httpqq_message_get_kind(const httpqq_message *message);

uint64_t httpqq_message_sender(const httpqq_message *message);

const char *httpqq_message_text(const httpqq_message *message,
                                size_t *len);

uint32_t httpqq_message_status(const httpqq_message *message);

void httpqq_user_info_free(httpqq_user_info *info);

uint32_t httpqq_user_info_level(const httpqq_user_info *info);

uint64_t httpqq_user_info_uin(const httpqq_user_info *info);

const char *httpqq_user_info_get(const httpqq_user_info *info,
                                 const char *key);

size_t httpqq_user_info_field_count(const httpqq_user_info *info);

const char *httpqq_user_info_field_key(const httpqq_user_info *info,
                                       size_t index);

const char *httpqq_user_info_field_value(const httpqq_user_info *info,
                                         size_t index);

const char *httpqq_user_info_nickname(const httpqq_user_info *info);

const char *httpqq_user_info_address(const httpqq_user_info *info);

const char *httpqq_user_info_city(const httpqq_user_info *info);

const char *httpqq_user_info_country(const httpqq_user_info *info);

const char *httpqq_user_info_email(const httpqq_user_info *info);

const char *httpqq_user_info_homepage(const httpqq_user_info *info);

const char *httpqq_user_info_occupation(const httpqq_user_info *info);

const char *httpqq_user_info_mobile(const httpqq_user_info *info);

const char *httpqq_user_info_postal_code(const httpqq_user_info *info);

const char *httpqq_user_info_phone(const httpqq_user_info *info);

const char *httpqq_user_info_introduction(const httpqq_user_info *info);

const char *httpqq_user_info_province(const httpqq_user_info *info);

const char *httpqq_user_info_real_name(const httpqq_user_info *info);

const char *httpqq_user_info_school(const httpqq_user_info *info);

int64_t httpqq_user_info_age(const httpqq_user_info *info);

int64_t httpqq_user_info_face(const httpqq_user_info *info);

int64_t httpqq_user_info_gender(const httpqq_user_info *info);

int64_t httpqq_user_info_blood_type(const httpqq_user_info *info);

int64_t httpqq_user_info_constellation(const httpqq_user_info *info);

int64_t httpqq_user_info_zodiac(const httpqq_user_info *info);

const char *httpqq_online_status_name(uint32_t code);

const char *httpqq_online_status_chinese_name(uint32_t code);

const char *httpqq_message_kind_name(uint32_t code);

const char *httpqq_gender_name(uint32_t code);

const char *httpqq_gender_chinese_name(uint32_t code);

const char *httpqq_blood_type_name(uint32_t code);

const char *httpqq_blood_type_chinese_name(uint32_t code);

const char *httpqq_constellation_name(uint32_t code);

const char *httpqq_constellation_chinese_name(uint32_t code);

const char *httpqq_zodiac_name(uint32_t code);

const char *httpqq_zodiac_chinese_name(uint32_t code);

void httpqq_session_shutdown(const httpqq_session *session);

void httpqq_session_free(httpqq_session *session);

uint64_t httpqq_session_uin(const httpqq_session *session);

uint64_t httpqq_session_heartbeat_ms(const httpqq_session *session);

uint64_t httpqq_session_idle_timeout_ms(const httpqq_session *session);

int32_t httpqq_session_set_auto_relogin(const httpqq_session *session,
                                        bool on,
                                        httpqq_error *error);

int32_t httpqq_session_relogin(const httpqq_session *session,
                               httpqq_error *error);

int32_t httpqq_session_friend_count(const httpqq_session *session,
                                    uint32_t *count_out,
                                    httpqq_error *error);

int32_t httpqq_session_friends(const httpqq_session *session,
                               uint32_t max,
                               httpqq_friend_list **list_out,
                               httpqq_error *error);

int32_t httpqq_session_online_count(const httpqq_session *session,
                                    uint32_t *count_out,
                                    httpqq_error *error);

int32_t httpqq_session_online_friends(const httpqq_session *session,
                                      uint32_t max,
                                      httpqq_online_list **list_out,
                                      httpqq_error *error);

int32_t httpqq_session_user_info(const httpqq_session *session,
                                 uint64_t target,
                                 uint32_t level,
                                 httpqq_user_info **info_out,
                                 httpqq_error *error);

int32_t httpqq_session_add_friend(const httpqq_session *session,
                                  uint64_t target,
                                  uint32_t *outcome_out,
                                  httpqq_error *error);

int32_t httpqq_session_approve(const httpqq_session *session,
                               uint64_t target,
                               httpqq_error *error);

int32_t httpqq_session_reject(const httpqq_session *session,
                              uint64_t target,
                              const char *reason,
                              httpqq_error *error);

int32_t httpqq_session_request_verification(const httpqq_session *session,
                                            uint64_t target,
                                            const char *reason,
                                            httpqq_error *error);

int32_t httpqq_session_verify(const httpqq_session *session,
                              uint64_t target,
                              uint32_t action,
                              const char *reason,
                              httpqq_error *error);

int32_t httpqq_session_remove_friend(const httpqq_session *session,
                                     uint64_t target,
                                     httpqq_error *error);

int32_t httpqq_session_set_status(const httpqq_session *session,
                                  uint32_t status,
                                  httpqq_error *error);

int32_t httpqq_session_fetch_messages(const httpqq_session *session,
                                      httpqq_message_list **messages_out,
                                      httpqq_error *error);

int32_t httpqq_session_poll(const httpqq_session *session,
                            httpqq_message_list **messages_out,
                            httpqq_error *error);

int32_t httpqq_session_send_message(const httpqq_session *session,
                                    uint64_t target,
                                    const char *message,
                                    httpqq_error *error);

int32_t httpqq_session_logout(const httpqq_session *session,
                              httpqq_error *error);

int32_t httpqq_session_listen(const httpqq_session *session,
                              uint64_t interval_ms,
                              httpqq_message_callback callback,
                              void *user_data,
                              httpqq_error *error);

httpqq_error *httpqq_error_new(void);

int32_t httpqq_error_set(httpqq_error *error,
                         int32_t status,
                         const char *message);

void httpqq_error_free(httpqq_error *error);

int32_t httpqq_error_status(const httpqq_error *error);

const char *httpqq_error_message(const httpqq_error *error);

const char *httpqq_error_reason(const httpqq_error *error);

uint64_t httpqq_error_retry_after_ms(const httpqq_error *error);

uint32_t httpqq_error_outcome(const httpqq_error *error);

const char *httpqq_last_error_message(void);

const char *httpqq_last_error_reason(void);

uint64_t httpqq_last_error_retry_after_ms(void);

uint32_t httpqq_last_error_outcome(void);

const char *httpqq_status_name(int32_t status);
