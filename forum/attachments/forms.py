from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired


class UploadForm(FlaskForm):
    image = FileField("Image", validators=[FileRequired("Choose an image.")])
