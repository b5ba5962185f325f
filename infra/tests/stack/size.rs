//! Every environment's template fits in what CloudFormation accepts from S3 (`TemplateURL`).
//! With the event path, prod's template passed `TemplateBody`'s 51,200 bytes, so deploy
//! sends templates over that limit through the artifact bucket.

use crate::common::{environments, template};

/// CloudFormation's limit on a template read from S3 (`TemplateURL`), in bytes.
const TEMPLATE_URL_LIMIT: usize = 1_000_000;

#[test]
fn every_template_fits_in_a_template_url() {
    for environment in environments() {
        let size = template(&environment).to_json_compact().len();
        eprintln!("{environment}: {size} of {TEMPLATE_URL_LIMIT} bytes");
        assert!(
            size <= TEMPLATE_URL_LIMIT,
            "{environment}'s template is {size} bytes, over CloudFormation's {TEMPLATE_URL_LIMIT}: \
             split the stack (nested stacks)"
        );
    }
}
