/*
 * Test-only freeDiameter extension: a minimal communication-details server (CDS).
 * It advertises the base accounting application (Acct-Application-Id 3), answers every
 * ACR with Result-Code 2001 echoing Accounting-Record-Type/-Number (RFC 6733 §9.7.2), and
 * appends a tree dump of each ACR, as freeDiameter parsed it with its dictionaries, to the
 * file named by the extension's configuration argument. Built by the integration test.
 */
#include <freeDiameter/extension.h>
#include <stdio.h>

static struct disp_hdl *acr_hdl;
static struct dict_object *d_rec_type;
static struct dict_object *d_rec_number;
static char *dump_path;

static void copy_avp(struct msg *from, struct msg *to, struct dict_object *model)
{
	struct avp *src = NULL, *dst = NULL;
	struct avp_hdr *hdr = NULL;
	if (fd_msg_search_avp(from, model, &src) != 0 || src == NULL)
		return;
	if (fd_msg_avp_hdr(src, &hdr) != 0 || hdr->avp_value == NULL)
		return;
	if (fd_msg_avp_new(model, 0, &dst) != 0)
		return;
	fd_msg_avp_setvalue(dst, hdr->avp_value);
	fd_msg_avp_add(to, MSG_BRW_LAST_CHILD, dst);
}

static int on_acr(struct msg **msg, struct avp *avp, struct session *sess, void *opaque, enum disp_action *act)
{
	struct msg *req = *msg;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)avp; (void)sess; (void)opaque;
	if (dump_path != NULL && fd_msg_dump_treeview(&buf, &len, NULL, req, fd_g_config->cnf_dict, 1, 1) != NULL) {
		f = fopen(dump_path, "a");
		if (f != NULL) {
			fprintf(f, "%s\n=== END ACR ===\n", buf);
			fclose(f);
		}
	}
	free(buf);

	CHECK_FCT(fd_msg_new_answer_from_req(fd_g_config->cnf_dict, msg, 0));
	CHECK_FCT(fd_msg_rescode_set(*msg, "DIAMETER_SUCCESS", NULL, NULL, 1));
	copy_avp(req, *msg, d_rec_type);
	copy_avp(req, *msg, d_rec_number);
	CHECK_FCT(fd_msg_send(msg, NULL, NULL));
	*act = DISP_ACT_CONT;
	return 0;
}

static int test_cds_init(char *conffile)
{
	struct dict_object *app = NULL, *cmd = NULL;
	struct disp_when when;
	application_id_t acct = 3;

	dump_path = conffile;
	CHECK_FCT(fd_dict_search(fd_g_config->cnf_dict, DICT_APPLICATION, APPLICATION_BY_ID, &acct, &app, ENOENT));
	CHECK_FCT(fd_dict_search(fd_g_config->cnf_dict, DICT_COMMAND, CMD_BY_NAME, "Accounting-Request", &cmd, ENOENT));
	CHECK_FCT(fd_dict_search(fd_g_config->cnf_dict, DICT_AVP, AVP_BY_NAME, "Accounting-Record-Type", &d_rec_type, ENOENT));
	CHECK_FCT(fd_dict_search(fd_g_config->cnf_dict, DICT_AVP, AVP_BY_NAME, "Accounting-Record-Number", &d_rec_number, ENOENT));
	memset(&when, 0, sizeof(when));
	when.app = app;
	when.command = cmd;
	CHECK_FCT(fd_disp_register(on_acr, DISP_HOW_CC, &when, NULL, &acr_hdl));
	CHECK_FCT(fd_disp_app_support(app, NULL, 0, 1));
	return 0;
}

void fd_ext_fini(void)
{
	if (acr_hdl != NULL)
		fd_disp_unregister(&acr_hdl, NULL);
}

EXTENSION_ENTRY("test_cds", test_cds_init);
